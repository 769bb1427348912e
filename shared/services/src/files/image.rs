//! An uploaded image made safe to serve: decoded under the pixel cap, turned upright, and
//! re-encoded from its pixels alone, so no metadata of the upload (EXIF GPS) survives.

use std::io::Cursor;

use domain::attachment::{ContentType, MAX_PIXELS};

use super::Refused;

/// An image decoded under the pixel cap, turned upright by its EXIF orientation, and
/// re-encoded in its own format from its pixels alone: no metadata of the upload (EXIF,
/// GPS, XMP, comments, ICC) is carried over. A GIF keeps its first frame only.
pub fn clean_image(kind: ContentType, bytes: &[u8]) -> Result<Vec<u8>, Refused> {
    use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
    let format = match kind {
        ContentType::Jpeg => ImageFormat::Jpeg,
        ContentType::Png => ImageFormat::Png,
        ContentType::Gif => ImageFormat::Gif,
        ContentType::Webp => ImageFormat::WebP,
        _ => return Err(Refused::WrongType),
    };
    let mut limits = Limits::default();
    // Bounds what the decoder may allocate before it knows better (a header lying about
    // its size): the cap's pixels at 4 bytes each, and some room for the codec.
    limits.max_alloc = Some(MAX_PIXELS * 4 + 64 * 1024 * 1024);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| Refused::Undecodable)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Refused::TooManyPixels);
    }
    let orientation = decoder.orientation().map_err(|_| Refused::Undecodable)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|err| match err {
        image::ImageError::Limits(_) => Refused::TooManyPixels,
        _ => Refused::Undecodable,
    })?;
    image.apply_orientation(orientation);
    let mut out = Vec::new();
    let encoded = match kind {
        ContentType::Jpeg => DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90),
        ),
        ContentType::Png => image.write_with_encoder(image::codecs::png::PngEncoder::new(&mut out)),
        ContentType::Webp => DynamicImage::ImageRgba8(image.to_rgba8())
            .write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut out)),
        _ => {
            let mut encoder = image::codecs::gif::GifEncoder::new(&mut out);
            encoder.encode_frame(image::Frame::new(image.to_rgba8()))
        }
    };
    // Pixels we decoded ourselves always encode; a failure here is odd, not the upload's.
    encoded.map_err(|_| Refused::Undecodable)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
        let mut plain = Vec::new();
        image::DynamicImage::new_rgb8(width, height)
            .write_with_encoder(image::codecs::jpeg::JpegEncoder::new(&mut plain))
            .unwrap();
        // An APP1 Exif segment with a GPS IFD pointer, right after SOI.
        let mut tiff = b"II*\0\x08\0\0\0".to_vec();
        tiff.extend_from_slice(&[1, 0]); // one entry
        tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 26, 0, 0, 0]); // GPSInfo → 26
        tiff.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
        tiff.extend_from_slice(&[1, 0]); // GPS IFD: one entry
        tiff.extend_from_slice(&[1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]); // GPSLatitudeRef "N"
        tiff.extend_from_slice(&[0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let len = u16::try_from(app1.len() + 2).unwrap();
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&plain[2..]);
        out
    }

    /// A JPEG whose EXIF says "rotate 90° clockwise to show" (orientation 6).
    fn jpeg_turned(width: u32, height: u32) -> Vec<u8> {
        let mut plain = Vec::new();
        image::DynamicImage::new_rgb8(width, height)
            .write_with_encoder(image::codecs::jpeg::JpegEncoder::new(&mut plain))
            .unwrap();
        let mut tiff = b"II*\0\x08\0\0\0".to_vec();
        tiff.extend_from_slice(&[1, 0]); // one entry
        tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]); // Orientation 6
        tiff.extend_from_slice(&[0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let len = u16::try_from(app1.len() + 2).unwrap();
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn a_cleaned_image_is_upright_and_says_nothing_of_its_turn() {
        let clean = clean_image(ContentType::Jpeg, &jpeg_turned(64, 48)).unwrap();
        let decoded = image::load_from_memory(&clean).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (48, 64), "turned");
        assert!(!contains(&clean, b"Exif"));
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_cleaned_jpeg_keeps_its_pixels_and_loses_its_exif() {
        let upload = jpeg_with_gps(64, 48);
        assert!(contains(&upload, b"Exif"));
        let clean = clean_image(ContentType::Jpeg, &upload).unwrap();
        assert!(ContentType::Jpeg.matches(&clean));
        assert!(!contains(&clean, b"Exif"));
        let decoded = image::load_from_memory(&clean).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (64, 48));
    }

    /// A photo of phone size (2 MP) goes through: decoded, turned and re-encoded whole. What
    /// it costs is measured in `make bench`, not asserted here.
    #[test]
    fn a_2_mp_jpeg_is_cleaned_whole() {
        let mut photo = Vec::new();
        image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(1600, 1200, |x, y| {
            image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
        }))
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut photo, 85,
        ))
        .unwrap();
        let clean = clean_image(ContentType::Jpeg, &photo).unwrap();
        let decoded = image::load_from_memory(&clean).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (1600, 1200));
    }

    #[test]
    fn text_is_not_an_image_and_a_bomb_is_refused_before_decoding() {
        assert_eq!(
            clean_image(ContentType::Png, b"just some text"),
            Err(Refused::Undecodable)
        );
        // 30 MP of one colour: a few kilobytes that would decode to 120 MB of RGBA.
        let mut png = Vec::new();
        image::DynamicImage::new_luma8(6000, 5000)
            .write_with_encoder(image::codecs::png::PngEncoder::new(&mut png))
            .unwrap();
        assert!(png.len() < 1024 * 1024, "{}", png.len());
        assert_eq!(
            clean_image(ContentType::Png, &png),
            Err(Refused::TooManyPixels)
        );
    }
}
