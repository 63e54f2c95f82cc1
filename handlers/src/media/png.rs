//! The PNG walk: signature, IHDR first, every chunk's CRC, PLTE and IDAT in order, IEND last;
//! optionally writes the image without its metadata chunks.

use std::ops::Range;

use super::{check_dimensions, exif, ImageInfo, ImageType, Limits, MediaError, PNG_MAGIC};

/// What the walk learned besides [`ImageInfo`].
#[derive(Debug)]
pub(super) struct Layout {
    pub(super) info: ImageInfo,
    /// The kept colour-space and physical-size chunks (gAMA, cHRM, sRGB, iCCP, pHYs) of the
    /// input, whole (length to CRC), in order: what a new encoding must carry over.
    pub(super) colour: Vec<Range<usize>>,
}

/// The longest chunk the format allows (2^31 - 1).
const MAX_CHUNK: usize = 0x7FFF_FFFF;

/// Walks `bytes` (which start with the PNG signature); with `out`, appends the kept chunks to it.
pub(super) fn walk(
    bytes: &[u8],
    limits: &Limits,
    mut out: Option<&mut Vec<u8>>,
) -> Result<Layout, MediaError> {
    let mut emit = |part: &[u8]| {
        if let Some(out) = out.as_deref_mut() {
            out.extend_from_slice(part);
        }
    };
    emit(PNG_MAGIC);
    let mut pos = PNG_MAGIC.len();
    let mut header: Option<(ImageInfo, u8)> = None;
    let mut seen_palette = false;
    let mut data = Data::Before;
    let mut orientation: Option<u8> = None;
    let mut colour = Vec::new();
    loop {
        if pos == bytes.len() {
            return Err(MediaError::Truncated);
        }
        let head: [u8; 8] = bytes
            .get(pos..pos + 8)
            .and_then(|h| h.try_into().ok())
            .ok_or(MediaError::Truncated)?;
        let [l3, l2, l1, l0, t0, t1, t2, t3] = head;
        let length = usize::try_from(u32::from_be_bytes([l3, l2, l1, l0]))
            .map_err(|_| MediaError::Malformed)?;
        let kind = [t0, t1, t2, t3];
        if length > MAX_CHUNK || !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(MediaError::Malformed);
        }
        let end = pos + 12 + length;
        let chunk = bytes.get(pos..end).ok_or(MediaError::Truncated)?;
        let (typed, crc) = chunk
            .get(4..)
            .and_then(|c| c.split_last_chunk::<4>())
            .ok_or(MediaError::Truncated)?;
        if crc32fast::hash(typed) != u32::from_be_bytes(*crc) {
            return Err(MediaError::Malformed);
        }
        let payload = typed.get(4..).unwrap_or_default();
        if header.is_none() && &kind != b"IHDR" {
            return Err(MediaError::Malformed);
        }
        if &kind != b"IDAT" && data == Data::Inside {
            data = Data::After;
        }
        match &kind {
            b"IHDR" => {
                if header.is_some() {
                    return Err(MediaError::Malformed);
                }
                let (width, height, colour_type) = parse_header(payload)?;
                check_dimensions(width, height, limits)?;
                let info = ImageInfo {
                    kind: ImageType::Png,
                    width,
                    height,
                    orientation: 1,
                };
                header = Some((info, colour_type));
                emit(chunk);
            }
            b"PLTE" => {
                let colour_type = header.map_or(0, |(_, c)| c);
                let entries = payload.len() / 3;
                if seen_palette
                    || data != Data::Before
                    || matches!(colour_type, 0 | 4)
                    || payload.len() % 3 != 0
                    || !(1..=256).contains(&entries)
                {
                    return Err(MediaError::Malformed);
                }
                seen_palette = true;
                emit(chunk);
            }
            b"IDAT" => {
                let colour_type = header.map_or(0, |(_, c)| c);
                if data == Data::After || (colour_type == 3 && !seen_palette) {
                    return Err(MediaError::Malformed);
                }
                data = Data::Inside;
                emit(chunk);
            }
            b"IEND" => {
                if data == Data::Before || !payload.is_empty() {
                    return Err(MediaError::Malformed);
                }
                emit(chunk);
                pos = end;
                break;
            }
            b"acTL" | b"fcTL" | b"fdAT" => return Err(MediaError::Animated),
            // Colour chunks after the image data are out of place: dropped with the rest.
            b"tRNS" | b"sBIT" | b"bKGD" if data == Data::Before => emit(chunk),
            b"gAMA" | b"cHRM" | b"sRGB" | b"iCCP" | b"pHYs" if data == Data::Before => {
                colour.push(pos..end);
                emit(chunk);
            }
            b"eXIf" if orientation.is_none() => {
                orientation = Some(exif::tiff_orientation(payload));
            }
            // An unknown critical chunk (upper-case first letter): a decoder cannot go on.
            [first, ..] if first.is_ascii_uppercase() => return Err(MediaError::UnsupportedType),
            // Text, time, EXIF and every other ancillary chunk: dropped.
            _ => {}
        }
        pos = end;
    }
    let (info, _) = header.ok_or(MediaError::Malformed)?;
    if pos != bytes.len() {
        return Err(MediaError::TrailingData);
    }
    Ok(Layout {
        info: ImageInfo {
            orientation: orientation.unwrap_or(1),
            ..info
        },
        colour,
    })
}

/// Where the walk is relative to the (consecutive) IDAT chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Data {
    Before,
    Inside,
    After,
}

/// IHDR: dimensions 1..2^31, a valid bit depth for the colour type, methods 0, interlace 0 or 1.
/// Returns width, height and colour type.
fn parse_header(payload: &[u8]) -> Result<(u32, u32, u8), MediaError> {
    let &[w3, w2, w1, w0, h3, h2, h1, h0, depth, colour_type, compression, filter, interlace] =
        payload
    else {
        return Err(MediaError::Malformed);
    };
    let width = u32::from_be_bytes([w3, w2, w1, w0]);
    let height = u32::from_be_bytes([h3, h2, h1, h0]);
    let side = 1..=0x7FFF_FFFF;
    let depth_ok = match colour_type {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(depth, 8 | 16),
        _ => false,
    };
    if !side.contains(&width)
        || !side.contains(&height)
        || !depth_ok
        || compression != 0
        || filter != 0
        || interlace > 1
    {
        return Err(MediaError::Malformed);
    }
    Ok((width, height, colour_type))
}
