//! `Image`: the bytes of an uploaded document photo or live frame with the type its magic bytes
//! show. Images are personal data: `Debug` shows only the type and length.

use std::fmt;
use std::sync::Arc;

use super::ValueError;

/// The image formats the kit accepts, recognised by their magic bytes (never by a file name or
/// a client-declared content type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageType {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
}

impl ImageType {
    /// The type the leading bytes show, if it is an accepted one.
    ///
    /// ```
    /// use kyc_core::model::ImageType;
    /// assert_eq!(ImageType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(ImageType::Jpeg));
    /// assert_eq!(ImageType::sniff(b"<svg xmlns="), None);
    /// ```
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(Self::Png)
        } else {
            None
        }
    }

    /// The media type (`image/jpeg`, `image/png`).
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }

    /// The usual file extension (`jpg`, `png`).
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
        }
    }
}

/// Image bytes whose type was recognised by magic bytes. Cheap to clone (shared buffer).
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    kind: ImageType,
    bytes: Arc<[u8]>,
}

impl Image {
    /// Accepts bytes whose magic bytes show JPEG or PNG and whose length is at most `max_len`.
    /// Decoding limits (dimensions, decompression bombs) are the adapters' job, before decoding.
    pub fn parse(bytes: impl Into<Arc<[u8]>>, max_len: usize) -> Result<Self, ValueError> {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Err(ValueError::Empty { what: "image" });
        }
        if bytes.len() > max_len {
            return Err(ValueError::TooLong {
                what: "image",
                max: max_len,
            });
        }
        let kind = ImageType::sniff(&bytes).ok_or(ValueError::Unknown {
            what: "image type",
            allowed: "JPEG or PNG",
        })?;
        Ok(Self { kind, bytes })
    }

    /// The recognised type.
    pub fn kind(&self) -> ImageType {
        self.kind
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Image({:?}, {} bytes)", self.kind, self.bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disguised_and_oversized_images_are_refused() {
        assert!(Image::parse(&b"<html><body>"[..], 100).is_err());
        assert!(Image::parse(&b""[..], 100).is_err());
        assert!(Image::parse(vec![0xFF, 0xD8, 0xFF, 0, 0], 4).is_err());
        let img = Image::parse(vec![0xFF, 0xD8, 0xFF, 0xE0], 4).unwrap();
        assert_eq!(img.kind(), ImageType::Jpeg);
        assert_eq!(format!("{img:?}"), "Image(Jpeg, 4 bytes)");
    }
}
