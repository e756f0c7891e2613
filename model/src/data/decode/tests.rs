//! Decoding users' files: formats, layouts, limits and the errors that name them.

use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPEncoder;
use image::{
    Delay, ExtendedColorType, Frame, ImageEncoder, ImageFormat, Luma, LumaA, Rgb, RgbImage, Rgba,
    RgbaImage,
};

use super::*;
use crate::data::{ImageClass, Part};

const GRAY: Target = Target {
    side: 4,
    channels: 1,
    fit: Fit::Resize,
};
const RGB: Target = Target {
    side: 4,
    channels: 3,
    fit: Fit::Resize,
};

fn decode(bytes: &[u8], target: &Target) -> Result<Images, DecodeError> {
    decode_image("x", bytes, &DecodeLimits::default(), target)
}

fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

/// A 4 x 4 gray ramp: pixel (x, y) is 16 * (4y + x).
fn ramp() -> DynamicImage {
    DynamicImage::ImageLuma8(ImageBuffer::from_fn(4, 4, |x, y| {
        Luma([(16 * (4 * y + x)) as u8])
    }))
}

fn ramp_values() -> Vec<f32> {
    (0..16).map(|k| (16 * k) as f32 / 255.0).collect()
}

fn assert_close(found: &[f32], expected: &[f32], tolerance: f32) {
    assert_eq!(found.len(), expected.len());
    for (i, (f, e)) in found.iter().zip(expected).enumerate() {
        assert!((f - e).abs() <= tolerance, "pixel {i}: {f} vs {e}");
    }
}

/// A PNG chunk: length, type, data and the CRC of type and data.
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
    out
}

/// A PNG written by hand: `colour` is the IHDR colour type, `rows` the unfiltered
/// scanlines (each gets filter byte 0).
fn png_by_hand(width: u32, height: u32, colour: u8, palette: &[u8], rows: &[Vec<u8>]) -> Vec<u8> {
    use std::io::Write;
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, colour, 0, 0, 0]);
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    for row in rows {
        zlib.write_all(&[0]).unwrap();
        zlib.write_all(row).unwrap();
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    if !palette.is_empty() {
        png.extend(chunk(b"PLTE", palette));
    }
    png.extend(chunk(b"IDAT", &zlib.finish().unwrap()));
    png.extend(chunk(b"IEND", &[]));
    png
}

#[test]
fn gray_png_decodes_to_its_values() {
    let image = decode(&encoded(ramp(), ImageFormat::Png), &GRAY).unwrap();
    assert_eq!((image.len(), image.image_shape()), (1, [1, 4, 4]));
    assert_close(image.pixels(), &ramp_values(), 1e-6);
    // Gray to RGB repeats the plane.
    let rgb = decode(&encoded(ramp(), ImageFormat::Png), &RGB).unwrap();
    assert_eq!(rgb.image_shape(), [3, 4, 4]);
    for plane in rgb.pixels().chunks(16) {
        assert_close(plane, &ramp_values(), 1e-6);
    }
}

#[test]
fn rgb_becomes_planar_and_gray_takes_the_luma() {
    let image = DynamicImage::ImageRgb8(ImageBuffer::from_pixel(4, 4, Rgb([255, 128, 0])));
    let png = encoded(image, ImageFormat::Png);
    let rgb = decode(&png, &RGB).unwrap();
    assert_close(&rgb.pixels()[..16], &[1.0; 16], 1e-6);
    assert_close(&rgb.pixels()[16..32], &[128.0 / 255.0; 16], 1e-6);
    assert_close(&rgb.pixels()[32..], &[0.0; 16], 1e-6);
    let gray = decode(&png, &GRAY).unwrap();
    let luma = LUMA_WEIGHTS[0] + LUMA_WEIGHTS[1] * 128.0 / 255.0;
    assert_close(gray.pixels(), &[luma; 16], 1e-6);
}

#[test]
fn transparency_is_composited_over_black() {
    let image = RgbaImage::from_fn(4, 4, |x, _| match x {
        0 | 1 => Rgba([255, 255, 255, 0]),
        _ => Rgba([255, 255, 255, 255]),
    });
    let png = encoded(DynamicImage::ImageRgba8(image), ImageFormat::Png);
    let gray = decode(&png, &GRAY).unwrap();
    for row in gray.pixels().chunks(4) {
        assert_close(row, &[0.0, 0.0, 1.0, 1.0], 1e-6);
    }
    let half = DynamicImage::ImageLumaA8(ImageBuffer::from_pixel(4, 4, LumaA([200, 128])));
    let gray = decode(&encoded(half, ImageFormat::Png), &GRAY).unwrap();
    assert_close(gray.pixels(), &[100.0 / 255.0; 16], 1e-6);
}

#[test]
fn sixteen_bit_and_palette_pngs_are_converted() {
    let deep = DynamicImage::ImageLuma16(ImageBuffer::from_fn(4, 4, |x, _| {
        Luma([[0, 65_535, 32_768, 1][x as usize]])
    }));
    let gray = decode(&encoded(deep, ImageFormat::Png), &GRAY).unwrap();
    let row = [0.0, 1.0, 32_768.0 / 65_535.0, 1.0 / 65_535.0];
    assert_close(gray.pixels(), &row.repeat(4), 1e-6);

    let palette = [0, 0, 0, 255, 0, 0, 0, 0, 255];
    let rows: Vec<Vec<u8>> = (0..4).map(|_| vec![0, 1, 2, 1]).collect();
    let png = png_by_hand(4, 4, 3, &palette, &rows);
    let rgb = decode(&png, &RGB).unwrap();
    let (red, green, blue) = (
        &rgb.pixels()[..4],
        &rgb.pixels()[16..20],
        &rgb.pixels()[32..36],
    );
    assert_eq!(red, [0.0, 1.0, 0.0, 1.0]);
    assert_eq!(green, [0.0; 4]);
    assert_eq!(blue, [0.0, 0.0, 1.0, 0.0]);
}

#[test]
fn jpeg_bmp_and_webp_decode() {
    let flat = |v: u8| DynamicImage::ImageRgb8(ImageBuffer::from_pixel(8, 8, Rgb([v, v, v])));
    let jpeg = encoded(flat(200), ImageFormat::Jpeg);
    assert_close(
        decode(&jpeg, &GRAY).unwrap().pixels(),
        &[200.0 / 255.0; 16],
        0.02,
    );
    let bmp = encoded(ramp().to_rgb8().into(), ImageFormat::Bmp);
    assert_close(decode(&bmp, &GRAY).unwrap().pixels(), &ramp_values(), 1e-5);
    let mut webp = Vec::new();
    let rgb = ramp().to_rgb8();
    WebPEncoder::new_lossless(&mut webp)
        .write_image(rgb.as_raw(), 4, 4, ExtendedColorType::Rgb8)
        .unwrap();
    assert_eq!(&webp[8..12], b"WEBP");
    assert_close(decode(&webp, &GRAY).unwrap().pixels(), &ramp_values(), 1e-5);
}

#[test]
fn an_animated_gif_gives_its_first_frame() {
    let frame = |v: u8| {
        let image = RgbaImage::from_pixel(4, 4, Rgba([v, 0, 0, 255]));
        Frame::from_parts(image, 0, 0, Delay::from_numer_denom_ms(100, 1))
    };
    let mut gif = Vec::new();
    GifEncoder::new(&mut gif)
        .encode_frames([frame(255), frame(0)])
        .unwrap();
    let rgb = decode(&gif, &RGB).unwrap();
    assert_close(&rgb.pixels()[..16], &[1.0; 16], 1e-6);
}

#[test]
fn exif_orientation_is_honoured() {
    // 16 x 8: left half dark, right half bright. EXIF orientation 6 says "rotate 90°
    // clockwise to display", which puts the left half on top.
    let image = RgbImage::from_fn(16, 8, |x, _| {
        let v = if x < 8 { 0 } else { 255 };
        Rgb([v, v, v])
    });
    // A little-endian TIFF header with one IFD entry: tag 0x0112 (orientation), type 3
    // (SHORT), count 1, value 6.
    let exif = [
        b'I', b'I', 42, 0, 8, 0, 0, 0, // header, IFD at 8
        1, 0, // one entry
        0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, // orientation = 6
        0, 0, 0, 0, // no next IFD
    ];
    let mut jpeg = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut jpeg, 95);
    encoder.set_exif_metadata(exif.to_vec()).unwrap();
    encoder
        .write_image(image.as_raw(), 16, 8, ExtendedColorType::Rgb8)
        .unwrap();
    let gray = decode(&jpeg, &GRAY).unwrap();
    let rows: Vec<f32> = gray
        .pixels()
        .chunks(4)
        .map(|row| row.iter().sum::<f32>() / 4.0)
        .collect();
    assert!(rows[0] < 0.1 && rows[3] > 0.9, "rows {rows:?}");
    let columns: Vec<f32> = (0..4)
        .map(|c| (0..4).map(|r| gray.pixels()[4 * r + c]).sum::<f32>() / 4.0)
        .collect();
    assert!((columns[0] - columns[3]).abs() < 0.1, "columns {columns:?}");
}

#[test]
fn centre_crop_keeps_the_centre() {
    // 12 x 4: a bright 4 x 4 square in the middle, dark sides.
    let image = DynamicImage::ImageLuma8(ImageBuffer::from_fn(12, 4, |x, _| {
        Luma([if (4..8).contains(&x) { 255 } else { 0 }])
    }));
    let png = encoded(image, ImageFormat::Png);
    let crop = Target {
        fit: Fit::CentreCrop,
        ..GRAY
    };
    assert_close(decode(&png, &crop).unwrap().pixels(), &[1.0; 16], 1e-6);
    // Resizing the whole keeps the dark sides.
    let whole = decode(&png, &GRAY).unwrap();
    assert!(whole.pixels()[0] < 0.1 && whole.pixels()[3] < 0.1);
}

#[test]
fn broken_files_are_refused_with_their_reason() {
    let limits = DecodeLimits::default();
    let err = |bytes: &[u8]| decode_image("dir/f.png", bytes, &limits, &GRAY).unwrap_err();
    assert!(matches!(err(&[]), DecodeError::Empty { .. }));
    assert!(matches!(
        err(b"just some text, no pixels"),
        DecodeError::NotAnImage { .. }
    ));
    let png = encoded(
        DynamicImage::ImageLuma8(ImageBuffer::from_fn(64, 64, |x, y| {
            Luma([(x * 7 + y * 13) as u8])
        })),
        ImageFormat::Png,
    );
    let truncated = err(&png[..png.len() / 2]);
    assert!(
        matches!(truncated, DecodeError::Damaged { .. }),
        "{truncated}"
    );
    assert!(
        truncated.to_string().starts_with("dir/f.png: damaged"),
        "{truncated}"
    );
    let tiff = err(b"II*\0\x08\0\0\0\0\0\0\0\0\0\0\0");
    assert!(matches!(tiff, DecodeError::Unsupported { .. }), "{tiff}");
    assert!(tiff.to_string().contains("TIFF"), "{tiff}");
    let small = DecodeLimits {
        max_file_bytes: 10,
        ..limits
    };
    let big = decode_image("big.png", &png, &small, &GRAY).unwrap_err();
    assert!(
        matches!(big, DecodeError::TooLarge { limit: 10, .. }),
        "{big}"
    );
    let bad_target = Target {
        channels: 2,
        ..GRAY
    };
    assert!(matches!(
        decode_image("t.png", &png, &limits, &bad_target),
        Err(DecodeError::Target { .. })
    ));
    for error in [truncated, tiff, big] {
        assert!(!error.file().is_empty());
    }
}

#[test]
fn a_huge_declared_size_is_refused_from_the_header() {
    // 40,000 x 40,000 gray pixels declared in a file of under 100 bytes: decoding would
    // allocate 1.6 GB.
    let png = png_by_hand(40_000, 40_000, 0, &[], &[vec![0; 4]]);
    assert!(png.len() < 100);
    let err = decode(&png, &GRAY).unwrap_err();
    assert_eq!(
        err,
        DecodeError::TooManyPixels {
            file: "x".into(),
            width: 40_000,
            height: 40_000,
            limit: DecodeLimits::default().max_pixels,
        }
    );
    // The same from a BMP header (54 bytes, no pixel data).
    let mut bmp = encoded(ramp().to_rgb8().into(), ImageFormat::Bmp)[..54].to_vec();
    bmp[18..22].copy_from_slice(&40_000i32.to_le_bytes());
    bmp[22..26].copy_from_slice(&40_000i32.to_le_bytes());
    let err = decode(&bmp, &GRAY).unwrap_err();
    assert!(
        matches!(err, DecodeError::TooManyPixels { width: 40_000, .. }),
        "{err}"
    );
}

#[test]
fn a_batch_loads_the_good_files_and_names_each_refused_one() {
    let png = encoded(ramp(), ImageFormat::Png);
    let files: Vec<(String, Vec<u8>)> = vec![
        ("widgets/good/a.png".into(), png.clone()),
        ("widgets/good/b.png".into(), png.clone()),
        ("widgets/scratch/c.png".into(), png.clone()),
        ("widgets/good/empty.png".into(), Vec::new()),
        ("widgets/good/cut.png".into(), png[..png.len() / 2].to_vec()),
        ("widgets/good/text.png".into(), b"hello".to_vec()),
        ("widgets/.DS_Store".into(), vec![0; 8]),
        ("widgets/readme.txt".into(), b"hi".to_vec()),
    ];
    let batch = decode_batch(files, &DecodeLimits::default(), &GRAY).unwrap();
    assert_eq!(batch.set.len(), 3);
    assert_eq!(
        batch.set.names(),
        [
            "widgets/good/a.png",
            "widgets/good/b.png",
            "widgets/scratch/c.png"
        ]
    );
    assert_eq!(
        batch.set.placements()[2].class,
        ImageClass::Defect("scratch".into())
    );
    assert_close(batch.set.images().image(2), &ramp_values(), 1e-6);
    let refused: Vec<&str> = batch.refused.iter().map(Refusal::file).collect();
    assert_eq!(
        refused,
        [
            "widgets/good/empty.png",
            "widgets/good/cut.png",
            "widgets/good/text.png",
            "widgets/.DS_Store",
            "widgets/readme.txt"
        ]
    );
    for refusal in &batch.refused {
        assert!(refusal.to_string().starts_with(refusal.file()), "{refusal}");
    }
    assert_eq!(batch.summary.count(Part::Unassigned, &ImageClass::Good), 2);
    assert_eq!(batch.summary.skipped(), 2);
}

#[test]
fn files_past_the_limit_are_refused_as_too_many() {
    let png = encoded(ramp(), ImageFormat::Png);
    let files = (0..4).map(|k| (format!("good/{k}.png"), png.as_slice()));
    let limits = DecodeLimits {
        max_files: 3,
        ..DecodeLimits::default()
    };
    let batch = decode_batch(files, &limits, &RGB).unwrap();
    assert_eq!(batch.set.len(), 3);
    assert_eq!(batch.set.images().image_shape(), [3, 4, 4]);
    assert!(matches!(
        &batch.refused[..],
        [Refusal::Unreadable(DecodeError::TooMany { file, limit: 3 })] if file == "good/3.png"
    ));
    // Bigger images, fewer files: the decoded batch stays within its bytes.
    let limits = DecodeLimits::default();
    let big = Target {
        side: 128,
        channels: 3,
        fit: Fit::Resize,
    };
    assert_eq!(limits.files_for(&big), 2_133);
    let small = Target {
        side: 32,
        channels: 1,
        fit: Fit::Resize,
    };
    assert_eq!(limits.files_for(&small), 20_000);
    // An empty batch is an empty set of the target's shape.
    let none = decode_batch(Vec::<(String, Vec<u8>)>::new(), &limits, &GRAY).unwrap();
    assert!(none.set.is_empty() && none.refused.is_empty());
}

#[test]
fn no_input_bytes_panic() {
    // Every prefix of every format, and bytes flipped in the middle of each.
    let rgba = DynamicImage::ImageRgba8(RgbaImage::from_fn(8, 8, |x, y| {
        Rgba([x as u8 * 30, y as u8 * 30, 7, 200])
    }));
    for format in [
        ImageFormat::Png,
        ImageFormat::Jpeg,
        ImageFormat::Bmp,
        ImageFormat::Gif,
        ImageFormat::WebP,
    ] {
        let image = if format == ImageFormat::Jpeg {
            rgba.to_rgb8().into()
        } else {
            rgba.clone()
        };
        let bytes = encoded(image, format);
        for end in 0..bytes.len() {
            let _ = decode(&bytes[..end], &RGB);
        }
        for at in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x5a;
            let _ = decode(&flipped, &RGB);
        }
    }
}
