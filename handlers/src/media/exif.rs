//! The one EXIF fact kept from stripped metadata: the orientation (tag 0x0112 of IFD0), read
//! from a TIFF structure in either byte order with every offset bounds-checked.

/// The orientation tag of TIFF/EXIF IFD0.
const ORIENTATION: u16 = 0x0112;
/// TIFF field type SHORT (u16).
const SHORT: u16 = 3;
/// More entries than this in IFD0 is not a camera's EXIF; stop looking (bounds the work).
const MAX_ENTRIES: usize = 1024;

/// The orientation of the payload of a JPEG APP1 segment, if it is an EXIF one (`Exif\0` and a
/// pad byte, then TIFF). `None` when the segment is not EXIF at all.
pub(super) fn app1_orientation(payload: &[u8]) -> Option<u8> {
    let tiff = payload.strip_prefix(b"Exif\0")?.get(1..)?;
    Some(tiff_orientation(tiff))
}

/// The orientation in a TIFF structure: 1..=8, and 1 when the tag is missing, of the wrong type
/// or out of range, or when the structure is broken.
pub(super) fn tiff_orientation(tiff: &[u8]) -> u8 {
    read_orientation(tiff)
        .filter(|o| (1..=8).contains(o))
        .and_then(|o| u8::try_from(o).ok())
        .unwrap_or(1)
}

fn read_orientation(tiff: &[u8]) -> Option<u16> {
    let big_endian = match tiff.get(..4)? {
        [b'I', b'I', 42, 0] => false,
        [b'M', b'M', 0, 42] => true,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let ifd0 = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd0)?).min(MAX_ENTRIES);
    let entries = tiff.get(ifd0.checked_add(2)?..)?;
    entries.chunks_exact(12).take(count).find_map(|entry| {
        let field = |at: usize| -> [u8; 2] { [entry[at], entry[at + 1]] };
        let read = |b: [u8; 2]| {
            if big_endian {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            }
        };
        if read(field(0)) != ORIENTATION {
            return None;
        }
        // A SHORT with count 1 sits in the first two bytes of the value field.
        let count_is_one = if big_endian {
            entry[4..8] == [0, 0, 0, 1]
        } else {
            entry[4..8] == [1, 0, 0, 0]
        };
        if read(field(2)) != SHORT || !count_is_one {
            return Some(0);
        }
        Some(read(field(8)))
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A TIFF structure whose IFD0 holds `entries` (tag, type, count, 4-byte value as a u32 in
    /// the file's byte order; SHORT values go in the high half for big-endian as TIFF lays
    /// them out left-justified).
    pub(crate) fn tiff(big_endian: bool, entries: &[(u16, u16, u32, u32)]) -> Vec<u8> {
        let u16b = |v: u16| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let u32b = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut t = Vec::new();
        t.extend_from_slice(if big_endian { b"MM\0\x2a" } else { b"II\x2a\0" });
        t.extend_from_slice(&u32b(8));
        t.extend_from_slice(&u16b(entries.len() as u16));
        for &(tag, typ, count, value) in entries {
            t.extend_from_slice(&u16b(tag));
            t.extend_from_slice(&u16b(typ));
            t.extend_from_slice(&u32b(count));
            if typ == SHORT && count == 1 {
                t.extend_from_slice(&u16b(value as u16));
                t.extend_from_slice(&[0, 0]);
            } else {
                t.extend_from_slice(&u32b(value));
            }
        }
        t.extend_from_slice(&u32b(0));
        t
    }

    #[test]
    fn orientation_is_read_in_both_byte_orders() {
        for big_endian in [false, true] {
            for o in 1..=8u32 {
                let t = tiff(
                    big_endian,
                    &[(0x010F, 2, 4, 0), (0x0112, 3, 1, o), (0x8825, 4, 1, 0)],
                );
                assert_eq!(u32::from(tiff_orientation(&t)), o);
            }
        }
    }

    #[test]
    fn missing_or_out_of_range_orientation_is_one() {
        assert_eq!(tiff_orientation(&tiff(false, &[(0x010F, 2, 4, 0)])), 1);
        assert_eq!(tiff_orientation(&tiff(true, &[(0x0112, 3, 1, 0)])), 1);
        assert_eq!(tiff_orientation(&tiff(true, &[(0x0112, 3, 1, 9)])), 1);
        // Wrong type (LONG) or count.
        assert_eq!(tiff_orientation(&tiff(false, &[(0x0112, 4, 1, 6)])), 1);
        assert_eq!(tiff_orientation(&tiff(false, &[(0x0112, 3, 2, 6)])), 1);
    }

    #[test]
    fn broken_structures_give_one_without_panicking() {
        let good = tiff(false, &[(0x0112, 3, 1, 6)]);
        assert_eq!(tiff_orientation(&good), 6);
        for cut in 0..good.len() {
            let o = tiff_orientation(&good[..cut]);
            assert!(o == 1 || o == 6);
        }
        let mut far = good.clone();
        far[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(tiff_orientation(&far), 1);
        assert_eq!(tiff_orientation(b"XX\x2a\0\x08\0\0\0"), 1);
    }

    #[test]
    fn app1_must_start_with_the_exif_identifier() {
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff(true, &[(0x0112, 3, 1, 8)]));
        assert_eq!(app1_orientation(&app1), Some(8));
        assert_eq!(
            app1_orientation(b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta"),
            None
        );
        assert_eq!(app1_orientation(b"Exif\0"), None);
    }
}
