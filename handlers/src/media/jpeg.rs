//! The JPEG walk: marker segments from SOI to EOI, entropy-coded data skipped by its byte
//! stuffing, each table checked for shape; optionally writes the image without its metadata.

use std::ops::Range;

use super::{check_dimensions, exif, ImageInfo, ImageType, Limits, MediaError};

/// What the walk learned besides [`ImageInfo`].
#[derive(Debug)]
pub(super) struct Layout {
    pub(super) info: ImageInfo,
    /// Number of colour components in the frame (1, 3 or 4).
    pub(super) components: u8,
    /// The APP2 `ICC_PROFILE` segments of the input, whole (marker included), in order.
    pub(super) icc: Vec<Range<usize>>,
}

/// The frame header (SOF) facts the rest of the walk needs.
struct Frame {
    component_ids: [u8; 4],
    components: u8,
}

/// Walks `bytes` (which start with `FF D8 FF`); with `out`, appends the kept segments to it.
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
    emit(&[0xFF, 0xD8]);
    let mut pos = 2;
    let mut frame: Option<Frame> = None;
    let mut info: Option<ImageInfo> = None;
    let mut seen_scan = false;
    let mut kept_jfif = false;
    let mut kept_adobe = false;
    let mut multi_picture = false;
    let mut orientation: Option<u8> = None;
    let mut icc = Vec::new();
    loop {
        // A marker: 0xFF, any number of 0xFF fill bytes, then the marker code.
        if *bytes.get(pos).ok_or(MediaError::Truncated)? != 0xFF {
            return Err(MediaError::Malformed);
        }
        let marker = loop {
            match bytes.get(pos) {
                None => return Err(MediaError::Truncated),
                Some(0xFF) => pos += 1,
                Some(&code) => break code,
            }
        };
        pos += 1;
        match marker {
            0xD9 => {
                if !seen_scan {
                    return Err(MediaError::Malformed);
                }
                emit(&[0xFF, 0xD9]);
                break;
            }
            // A second SOI, stuffing or a restart outside entropy-coded data, TEM.
            0x00 | 0x01 | 0xD0..=0xD8 => return Err(MediaError::Malformed),
            _ => {}
        }
        let length = match bytes.get(pos..pos + 2) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => return Err(MediaError::Truncated),
        };
        if length < 2 {
            return Err(MediaError::Malformed);
        }
        let end = pos + length;
        // The segment from its marker (without the fill bytes before it), and its payload.
        let segment = bytes.get(pos - 2..end).ok_or(MediaError::Truncated)?;
        let payload = segment.get(4..).ok_or(MediaError::Truncated)?;
        match marker {
            // Baseline, extended sequential and progressive, Huffman coded.
            0xC0..=0xC2 => {
                if frame.is_some() {
                    return Err(MediaError::Malformed);
                }
                let (f, width, height) = parse_frame(payload)?;
                check_dimensions(width, height, limits)?;
                info = Some(ImageInfo {
                    kind: ImageType::Jpeg,
                    width,
                    height,
                    orientation: 1,
                });
                frame = Some(f);
                emit(segment);
            }
            // Lossless, hierarchical (differential), arithmetic coding (and its conditioning
            // tables), JPEG-LS, hierarchical progression (DHP, EXP).
            0xC3 | 0xC5..=0xCF | 0xDE | 0xDF | 0xF7 | 0xF8 => {
                return Err(MediaError::UnsupportedType)
            }
            0xC4 => {
                check_huffman_tables(payload)?;
                emit(segment);
            }
            0xDB => {
                check_quantization_tables(payload)?;
                emit(segment);
            }
            0xDD => {
                if payload.len() != 2 {
                    return Err(MediaError::Malformed);
                }
                emit(segment);
            }
            0xDA => {
                let frame = frame.as_ref().ok_or(MediaError::Malformed)?;
                check_scan_header(payload, frame)?;
                emit(segment);
                let data_end = skip_entropy_coded_data(bytes, end)?;
                emit(bytes.get(end..data_end).ok_or(MediaError::Truncated)?);
                seen_scan = true;
                pos = data_end;
                continue;
            }
            0xE0 => {
                // JFIF: identifier, version, units, densities (12 bytes), thumbnail size (2),
                // thumbnail. Kept once, without the thumbnail.
                if !kept_jfif && payload.len() >= 14 && payload.starts_with(b"JFIF\0") {
                    kept_jfif = true;
                    emit(&[0xFF, 0xE0, 0x00, 0x10]);
                    emit(payload.get(..12).unwrap_or_default());
                    emit(&[0, 0]);
                }
            }
            0xE1 => {
                if orientation.is_none() {
                    orientation = exif::app1_orientation(payload);
                }
            }
            0xE2 => {
                if payload.starts_with(b"ICC_PROFILE\0") {
                    icc.push(pos - 2..end);
                    emit(segment);
                } else if payload.starts_with(b"MPF\0") {
                    multi_picture = true;
                }
            }
            0xEE => {
                if !kept_adobe && payload.starts_with(b"Adobe") {
                    kept_adobe = true;
                    emit(segment);
                }
            }
            // Other APPn and COM: dropped.
            0xE3..=0xED | 0xEF | 0xFE => {}
            // DNL (heights come from SOF here), reserved and extension markers.
            _ => return Err(MediaError::Malformed),
        }
        pos = end;
    }
    let info = info.ok_or(MediaError::Malformed)?;
    let components = frame.map_or(0, |f| f.components);
    let rest = bytes.get(pos..).unwrap_or_default();
    let tolerated =
        rest.iter().all(|&b| b == 0) || (multi_picture && rest.starts_with(&[0xFF, 0xD8, 0xFF]));
    if !tolerated {
        return Err(MediaError::TrailingData);
    }
    Ok(Layout {
        info: ImageInfo {
            orientation: orientation.unwrap_or(1),
            ..info
        },
        components,
        icc,
    })
}

/// SOF: precision 8, non-zero dimensions, 1, 3 or 4 components with valid sampling factors.
fn parse_frame(payload: &[u8]) -> Result<(Frame, u32, u32), MediaError> {
    let (&[precision, h1, h0, w1, w0, count], specs) = split_array::<6>(payload)?;
    if specs.len() != 3 * usize::from(count) || count == 0 {
        return Err(MediaError::Malformed);
    }
    if precision != 8 || count == 2 {
        return Err(MediaError::UnsupportedType);
    }
    if count > 4 {
        return Err(MediaError::Malformed);
    }
    let height = u32::from(u16::from_be_bytes([h1, h0]));
    let width = u32::from(u16::from_be_bytes([w1, w0]));
    if width == 0 || height == 0 {
        return Err(MediaError::Malformed);
    }
    let mut component_ids = [0u8; 4];
    for (i, spec) in specs.chunks_exact(3).enumerate() {
        let (id, sampling, table) = (spec[0], spec[1], spec[2]);
        let (h, v) = (sampling >> 4, sampling & 0x0F);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) || table > 3 {
            return Err(MediaError::Malformed);
        }
        if component_ids[..i].contains(&id) {
            return Err(MediaError::Malformed);
        }
        if let Some(slot) = component_ids.get_mut(i) {
            *slot = id;
        }
    }
    Ok((
        Frame {
            component_ids,
            components: count,
        },
        width,
        height,
    ))
}

/// SOS header: 1 to 4 components, each one of the frame's, and the three spectral bytes.
fn check_scan_header(payload: &[u8], frame: &Frame) -> Result<(), MediaError> {
    let (&[count], rest) = split_array::<1>(payload)?;
    if !(1..=4).contains(&count) || rest.len() != 2 * usize::from(count) + 3 {
        return Err(MediaError::Malformed);
    }
    let known = &frame.component_ids[..usize::from(frame.components).min(4)];
    for spec in rest.chunks_exact(2).take(usize::from(count)) {
        let (id, tables) = (spec[0], spec[1]);
        if !known.contains(&id) || tables >> 4 > 3 || tables & 0x0F > 3 {
            return Err(MediaError::Malformed);
        }
    }
    Ok(())
}

/// DQT: one or more tables of 64 bytes (8-bit) or 128 bytes (16-bit), ids 0..=3.
fn check_quantization_tables(mut payload: &[u8]) -> Result<(), MediaError> {
    if payload.is_empty() {
        return Err(MediaError::Malformed);
    }
    while let Some((&spec, rest)) = payload.split_first() {
        let size = match spec >> 4 {
            0 => 64,
            1 => 128,
            _ => return Err(MediaError::Malformed),
        };
        if spec & 0x0F > 3 {
            return Err(MediaError::Malformed);
        }
        payload = rest.get(size..).ok_or(MediaError::Malformed)?;
    }
    Ok(())
}

/// DHT: one or more tables: class 0..=1, id 0..=3, 16 code counts, at most 256 values.
fn check_huffman_tables(mut payload: &[u8]) -> Result<(), MediaError> {
    if payload.is_empty() {
        return Err(MediaError::Malformed);
    }
    while let Some((&spec, rest)) = payload.split_first() {
        if spec >> 4 > 1 || spec & 0x0F > 3 {
            return Err(MediaError::Malformed);
        }
        let counts = rest.get(..16).ok_or(MediaError::Malformed)?;
        let values: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if values > 256 {
            return Err(MediaError::Malformed);
        }
        payload = rest.get(16 + values..).ok_or(MediaError::Malformed)?;
    }
    Ok(())
}

/// Skips entropy-coded data from `start`: returns the index where it ends, the first of the
/// 0xFF bytes before the next marker (fill bytes are not data). 0xFF 0x00 is a stuffed 0xFF
/// and 0xFF 0xD0..=0xD7 a restart marker, both part of the data. Reaching the end of the input
/// is a truncation (no EOI).
fn skip_entropy_coded_data(bytes: &[u8], start: usize) -> Result<usize, MediaError> {
    let mut i = start;
    loop {
        let ff = i + bytes
            .get(i..)
            .and_then(find_ff)
            .ok_or(MediaError::Truncated)?;
        match bytes.get(ff + 1) {
            None => return Err(MediaError::Truncated),
            Some(0x00 | 0xD0..=0xD7) => i = ff + 2,
            Some(0xFF) => {
                // Fill bytes: data ends at the first of them if a marker follows.
                let mut j = ff + 1;
                while bytes.get(j) == Some(&0xFF) {
                    j += 1;
                }
                match bytes.get(j) {
                    None => return Err(MediaError::Truncated),
                    Some(0x00 | 0xD0..=0xD7) => i = j + 1,
                    Some(_) => return Ok(ff),
                }
            }
            Some(_) => return Ok(ff),
        }
    }
}

/// The index of the first 0xFF in `bytes`. Entropy-coded data is most of a JPEG and holds a
/// 0xFF every few hundred bytes; testing 32 bytes at a time (which the compiler turns into
/// vector compares) makes the walk several times faster than a byte loop.
fn find_ff(bytes: &[u8]) -> Option<usize> {
    const BLOCK: usize = 32;
    let mut blocks = bytes.chunks_exact(BLOCK);
    let mut offset = 0;
    for block in &mut blocks {
        if block.iter().fold(false, |seen, &b| seen | (b == 0xFF)) {
            return block.iter().position(|&b| b == 0xFF).map(|p| offset + p);
        }
        offset += BLOCK;
    }
    blocks
        .remainder()
        .iter()
        .position(|&b| b == 0xFF)
        .map(|p| offset + p)
}

/// Splits the first `N` bytes off as an array (`Malformed` when shorter).
fn split_array<const N: usize>(payload: &[u8]) -> Result<(&[u8; N], &[u8]), MediaError> {
    let (head, rest) = payload.split_at_checked(N).ok_or(MediaError::Malformed)?;
    let head = head.try_into().map_err(|_| MediaError::Malformed)?;
    Ok((head, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_coded_data_ends_at_the_first_real_marker() {
        // Stuffed 0xFF, restart markers and fill bytes are data or skipped; EOI ends it.
        let data = [
            0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xD7, 0x78, 0xFF, 0xFF, 0xD9,
        ];
        assert_eq!(skip_entropy_coded_data(&data, 0), Ok(10));
        assert_eq!(skip_entropy_coded_data(&[0xFF, 0xC4, 0, 0], 0), Ok(0));
        // Fill bytes before a restart marker or a stuffed byte are still data.
        assert_eq!(
            skip_entropy_coded_data(&[1, 0xFF, 0xFF, 0xD3, 2, 0xFF, 0xD9], 0),
            Ok(5)
        );
    }

    #[test]
    fn entropy_coded_data_without_a_marker_is_truncated() {
        for data in [
            &[][..],
            &[1, 2, 3],
            &[1, 0xFF],
            &[1, 0xFF, 0x00],
            &[1, 0xFF, 0xFF],
            &[0xFF, 0xD0, 0xFF, 0xFF],
        ] {
            assert_eq!(
                skip_entropy_coded_data(data, 0),
                Err(MediaError::Truncated),
                "{data:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn the_block_search_finds_the_first_ff(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![100 => 0u8..=254, 1 => proptest::strategy::Just(0xFF)],
                0..300,
            ),
        ) {
            proptest::prop_assert_eq!(find_ff(&bytes), bytes.iter().position(|&b| b == 0xFF));
        }
    }

    #[test]
    fn table_shapes_are_checked() {
        let mut dqt = vec![0x00];
        dqt.extend([1; 64]);
        dqt.push(0x11);
        dqt.extend([1; 128]);
        assert_eq!(check_quantization_tables(&dqt), Ok(()));
        assert_eq!(
            check_quantization_tables(&dqt[..dqt.len() - 1]),
            Err(MediaError::Malformed)
        );
        assert_eq!(check_quantization_tables(&[]), Err(MediaError::Malformed));

        let mut dht = vec![0x10];
        let mut counts = [0u8; 16];
        counts[1] = 2;
        dht.extend(counts);
        dht.extend([0x01, 0x02]);
        assert_eq!(check_huffman_tables(&dht), Ok(()));
        assert_eq!(
            check_huffman_tables(&dht[..dht.len() - 1]),
            Err(MediaError::Malformed)
        );
        let mut too_many = vec![0x00];
        too_many.extend([255u8; 16]);
        assert_eq!(check_huffman_tables(&too_many), Err(MediaError::Malformed));
    }

    #[test]
    fn frame_headers_are_checked() {
        let frame = |precision: u8, count: u8, specs: &[u8]| {
            let mut p = vec![precision, 0, 10, 0, 20, count];
            p.extend_from_slice(specs);
            parse_frame(&p).map(|(f, w, h)| (f.components, w, h))
        };
        assert_eq!(frame(8, 1, &[1, 0x11, 0]), Ok((1, 20, 10)));
        assert_eq!(
            frame(8, 3, &[1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]),
            Ok((3, 20, 10))
        );
        assert_eq!(frame(8, 1, &[1, 0x11]), Err(MediaError::Malformed));
        assert_eq!(frame(8, 0, &[]), Err(MediaError::Malformed));
        assert_eq!(frame(8, 1, &[1, 0x51, 0]), Err(MediaError::Malformed));
        assert_eq!(frame(8, 1, &[1, 0x10, 0]), Err(MediaError::Malformed));
        assert_eq!(frame(8, 1, &[1, 0x11, 4]), Err(MediaError::Malformed));
        assert_eq!(
            frame(8, 2, &[1, 0x11, 0, 1, 0x11, 0]),
            Err(MediaError::UnsupportedType)
        );
        assert_eq!(
            frame(8, 3, &[1, 0x11, 0, 1, 0x11, 0, 3, 0x11, 0]),
            Err(MediaError::Malformed)
        );
        assert_eq!(
            frame(16, 1, &[1, 0x11, 0]),
            Err(MediaError::UnsupportedType)
        );
        assert_eq!(
            frame(
                8,
                5,
                &[1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0, 5, 0x11, 0]
            ),
            Err(MediaError::Malformed)
        );
    }
}
