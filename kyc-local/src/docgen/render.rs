//! The TD1 and TD3 page layouts: a tinted card with guilloche lines on a scanner bed, a
//! header, the face photo, labels with their values below, and the MRZ in OCR-B at the ICAO
//! pitch of 2.54 mm per character. Positions are in millimetres, scaled by the resolution.

use ab_glyph::{Font, PxScale};
use kyc_core::document::{format_date, DateFormat};
use kyc_core::model::{Date, Sex};

use super::identity::{DocFormat, Identity};
use super::rng::SeedRng;
use super::text::{draw_monospace, draw_text, Fonts};
use super::Variant;
use crate::ocr::raster::Raster;

/// The colour around the card (a scanner lid).
pub(crate) const SCANNER_BED: [u8; 3] = [246, 246, 244];

/// The printed labels of one document, in one language or two.
#[derive(Debug, PartialEq, Eq)]
pub struct LabelSet {
    /// Header of a card.
    pub card_title: &'static str,
    /// Header of a passport.
    pub passport_title: &'static str,
    /// Surname.
    pub surname: &'static str,
    /// Given names.
    pub given_names: &'static str,
    /// Date of birth.
    pub birth_date: &'static str,
    /// Sex.
    pub sex: &'static str,
    /// Nationality.
    pub nationality: &'static str,
    /// Document number on a card.
    pub document_number: &'static str,
    /// Document number on a passport.
    pub passport_number: &'static str,
    /// Date of expiry.
    pub expiry_date: &'static str,
    /// Date of issue.
    pub issue_date: &'static str,
    /// Place of birth.
    pub place_of_birth: &'static str,
    /// Issuing authority.
    pub authority: &'static str,
    /// Document type.
    pub doc_type: &'static str,
    /// Issuing state code.
    pub code: &'static str,
    /// Short enough for the 54 mm card.
    pub fits_card: bool,
}

/// The label sets drawn: English, French/English, German/English, Spanish/English.
pub const LABEL_SETS: &[LabelSet] = &[
    LabelSet {
        card_title: "IDENTITY CARD",
        passport_title: "PASSPORT",
        surname: "Surname",
        given_names: "Given names",
        birth_date: "Date of birth",
        sex: "Sex",
        nationality: "Nationality",
        document_number: "Document No.",
        passport_number: "Passport No.",
        expiry_date: "Date of expiry",
        issue_date: "Date of issue",
        place_of_birth: "Place of birth",
        authority: "Authority",
        doc_type: "Type",
        code: "Code",
        fits_card: true,
    },
    LabelSet {
        card_title: "CARTE D'IDENTITÉ / IDENTITY CARD",
        passport_title: "PASSEPORT / PASSPORT",
        surname: "Nom / Surname",
        given_names: "Prénoms / Given names",
        birth_date: "Date de naissance / Date of birth",
        sex: "Sexe / Sex",
        nationality: "Nationalité / Nationality",
        document_number: "N° du document / Document No.",
        passport_number: "N° du passeport / Passport No.",
        expiry_date: "Date d'expiration / Date of expiry",
        issue_date: "Date de délivrance / Date of issue",
        place_of_birth: "Lieu de naissance / Place of birth",
        authority: "Autorité / Authority",
        doc_type: "Type / Type",
        code: "Code / Code",
        fits_card: false,
    },
    LabelSet {
        card_title: "PERSONALAUSWEIS / IDENTITY CARD",
        passport_title: "REISEPASS / PASSPORT",
        surname: "Name / Surname",
        given_names: "Vornamen / Given names",
        birth_date: "Geburtstag / Date of birth",
        sex: "Geschlecht / Sex",
        nationality: "Staatsangehörigkeit / Nationality",
        document_number: "Ausweisnummer / Document No.",
        passport_number: "Pass-Nr. / Passport No.",
        expiry_date: "Gültig bis / Date of expiry",
        issue_date: "Ausstellungsdatum / Date of issue",
        place_of_birth: "Geburtsort / Place of birth",
        authority: "Behörde / Authority",
        doc_type: "Typ / Type",
        code: "Kode / Code",
        fits_card: false,
    },
    LabelSet {
        card_title: "DOCUMENTO DE IDENTIDAD",
        passport_title: "PASAPORTE / PASSPORT",
        surname: "Apellidos / Surname",
        given_names: "Nombre / Given names",
        birth_date: "Fecha de nacimiento / Date of birth",
        sex: "Sexo / Sex",
        nationality: "Nacionalidad / Nationality",
        document_number: "Número de documento / Document No.",
        passport_number: "Pasaporte N° / Passport No.",
        expiry_date: "Fecha de caducidad / Date of expiry",
        issue_date: "Fecha de expedición / Date of issue",
        place_of_birth: "Lugar de nacimiento / Place of birth",
        authority: "Autoridad / Authority",
        doc_type: "Tipo / Type",
        code: "Código / Code",
        fits_card: false,
    },
];

/// Printed date layouts drawn.
const DATE_FORMATS: &[DateFormat] = &[
    DateFormat::DayMonthAbbrevYear,
    DateFormat::DotsDayMonthYear,
    DateFormat::SlashesDayMonthYear,
    DateFormat::DayBilingualMonthShortYear,
];

/// A drawn page before degradation.
pub(crate) struct Drawn {
    pub page: Raster,
    pub labels: &'static LabelSet,
}

/// Card and page geometry in millimetres.
struct Geometry {
    card_w: f32,
    card_h: f32,
    margin: f32,
}

struct Painter<'a> {
    page: Raster,
    fonts: &'a Fonts,
    /// Pixels per millimetre.
    scale: f32,
    /// Card origin on the page, in millimetres.
    ox: f32,
    oy: f32,
}

const INK: [u8; 3] = [22, 22, 30];
const LABEL_INK: [u8; 3] = [52, 60, 98];
const TITLE_INK: [u8; 3] = [28, 48, 120];

impl Painter<'_> {
    fn px(&self, mm: f32) -> f32 {
        mm * self.scale
    }

    /// Text at (x, baseline y) in card millimetres, `pt` points high.
    fn text(&mut self, bold: bool, pt: f32, x: f32, y: f32, color: [u8; 3], s: &str) -> f32 {
        let font = if bold {
            &self.fonts.bold
        } else {
            &self.fonts.regular
        };
        let size = pt * 25.4 / 72.0 * self.scale;
        let (px, py) = (self.px(self.ox + x), self.px(self.oy + y));
        draw_text(&mut self.page, font, size, px, py, color, s) / self.scale
    }

    /// A label and its value below it.
    fn field(&mut self, label_pt: f32, value_pt: f32, x: f32, y: f32, label: &str, value: &str) {
        self.text(false, label_pt, x, y, LABEL_INK, label);
        let gap = value_pt * 25.4 / 72.0 * 1.05;
        self.text(true, value_pt, x, y + gap, INK, value);
    }

    fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: [u8; 3]) {
        let (x0, y0) = (self.px(self.ox + x) as usize, self.px(self.oy + y) as usize);
        let (x1, y1) = (
            self.px(self.ox + x + w) as usize,
            self.px(self.oy + y + h) as usize,
        );
        let width = self.page.width();
        let data = self.page.data_mut();
        for yy in y0..y1 {
            for xx in x0..x1.min(width) {
                let i = (yy * width + xx) * 3;
                if let Some(p) = data.get_mut(i..i + 3) {
                    p.copy_from_slice(&color);
                }
            }
        }
    }

    /// The card: tint, guilloche waves, a thin border.
    fn card(&mut self, g: &Geometry, rng: &mut SeedRng) {
        let tint = [
            228 + u8::try_from(rng.below(10)).unwrap_or(0),
            234 + u8::try_from(rng.below(8)).unwrap_or(0),
            240 + u8::try_from(rng.below(10)).unwrap_or(0),
        ];
        self.fill_rect(0.0, 0.0, g.card_w, g.card_h, tint);
        let wave = [
            tint[0].saturating_sub(24),
            tint[1].saturating_sub(16),
            tint[2].saturating_sub(6),
        ];
        let (x0, x1) = (self.px(self.ox), self.px(self.ox + g.card_w));
        let (y0, y1) = (self.px(self.oy), self.px(self.oy + g.card_h));
        let width = self.page.width();
        let thickness = (0.12 * self.scale).max(1.0);
        let period = 14.0 * self.scale;
        let amp = 2.2 * self.scale;
        let phase = rng.uniform(0.0, std::f32::consts::TAU);
        let mut y_start = y0;
        while y_start < y1 {
            let mut x = x0;
            while x < x1 {
                let y = y_start + amp * ((x - x0) / period * std::f32::consts::TAU + phase).sin();
                let mut t = 0.0;
                while t < thickness {
                    let (xi, yi) = (x as usize, (y + t) as usize);
                    if y + t >= y0 && y + t < y1 {
                        let i = (yi * width + xi) * 3;
                        if let Some(p) = self.page.data_mut().get_mut(i..i + 3) {
                            p.copy_from_slice(&wave);
                        }
                    }
                    t += 1.0;
                }
                x += 1.0;
            }
            y_start += 1.6 * self.scale;
        }
        let border = [150, 160, 185];
        let b = 0.25;
        self.fill_rect(0.0, 0.0, g.card_w, b, border);
        self.fill_rect(0.0, g.card_h - b, g.card_w, b, border);
        self.fill_rect(0.0, 0.0, b, g.card_h, border);
        self.fill_rect(g.card_w - b, 0.0, b, g.card_h, border);
    }

    /// The face photo, from the bytes of a photo or drawn.
    fn photo(&mut self, x: f32, y: f32, w: f32, h: f32, face: Option<&[u8]>) {
        let (pw, ph) = (self.px(w) as usize, self.px(h) as usize);
        let picture = face
            .and_then(|bytes| fitted_photo(bytes, pw, ph))
            .unwrap_or_else(|| placeholder_face(pw, ph));
        let (px0, py0) = (self.px(self.ox + x) as usize, self.px(self.oy + y) as usize);
        let width = self.page.width();
        for yy in 0..ph {
            let src = picture.row(yy);
            let i = ((py0 + yy) * width + px0) * 3;
            if let Some(dst) = self.page.data_mut().get_mut(i..i + src.len()) {
                dst.copy_from_slice(src);
            }
        }
    }

    /// The MRZ lines at the ICAO pitch, the last line's baseline `bottom` mm above the card's
    /// lower edge, `line_pitch` mm apart, centred.
    fn mrz(&mut self, g: &Geometry, lines: &[String], bottom: f32, line_pitch: f32) {
        let pitch_mm = 2.54;
        let cap_mm = 2.35;
        let cap_ratio = cap_height_ratio(&self.fonts.ocr_b);
        let size = cap_mm * self.scale / cap_ratio;
        let count = lines.len() as f32;
        for (i, line) in lines.iter().enumerate() {
            let width = pitch_mm * line.chars().count() as f32;
            let x = (g.card_w - width) / 2.0;
            let baseline = g.card_h - bottom - line_pitch * (count - 1.0 - i as f32);
            let (px, py) = (self.px(self.ox + x), self.px(self.oy + baseline));
            let pitch = pitch_mm * self.scale;
            draw_monospace(
                &mut self.page,
                &self.fonts.ocr_b,
                size,
                pitch,
                px,
                py,
                INK,
                line,
            );
        }
    }
}

/// Cap height of a font as a fraction of its em size.
fn cap_height_ratio(font: &ab_glyph::FontVec) -> f32 {
    let glyph = font
        .glyph_id('H')
        .with_scale_and_position(PxScale::from(100.0), ab_glyph::point(0.0, 0.0));
    font.outline_glyph(glyph)
        .map(|o| {
            let b = o.px_bounds();
            ((b.max.y - b.min.y) / 100.0).max(0.3)
        })
        .unwrap_or(0.7)
}

/// Decodes a photo (small limits: these are local assets) and fits it to the box by cropping
/// its centre.
fn fitted_photo(bytes: &[u8], w: usize, h: usize) -> Option<Raster> {
    let mut reader = image::io::Reader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    let mut limits = image::io::Limits::default();
    limits.max_image_width = Some(8000);
    limits.max_image_height = Some(8000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let rgb = reader.decode().ok()?.to_rgb8();
    let (sw, sh) = (rgb.width() as usize, rgb.height() as usize);
    let src = Raster::from_vec(sw, sh, 3, rgb.into_raw())?;
    if w == 0 || h == 0 || sw == 0 || sh == 0 {
        return None;
    }
    let target = w as f32 / h as f32;
    let (cw, ch) = if sw as f32 / sh as f32 > target {
        ((sh as f32 * target) as usize, sh)
    } else {
        (sw, (sw as f32 / target) as usize)
    };
    let cropped = src.crop((sw - cw) / 2, (sh - ch) / 2, cw, ch);
    let factor = (cw / w.max(1)).max(1);
    Some(cropped.downscale(factor).resize_bilinear(w, h))
}

/// A drawn stand-in for a face photo: head and shoulders on a plain background.
fn placeholder_face(w: usize, h: usize) -> Raster {
    let mut r = Raster::filled(w, h, &[200, 210, 222]);
    let (wf, hf) = (w as f32, h as f32);
    let data = r.data_mut();
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32 / wf, y as f32 / hf);
            let head = ((fx - 0.5) / 0.24).powi(2) + ((fy - 0.42) / 0.27).powi(2) <= 1.0;
            let hair = ((fx - 0.5) / 0.26).powi(2) + ((fy - 0.33) / 0.22).powi(2) <= 1.0;
            let body = ((fx - 0.5) / 0.48).powi(2) + ((fy - 1.05) / 0.3).powi(2) <= 1.0;
            let color = if head && fy > 0.26 {
                [214, 178, 150]
            } else if hair {
                [70, 52, 40]
            } else if body {
                [60, 70, 96]
            } else {
                continue;
            };
            let i = (y * w + x) * 3;
            if let Some(p) = data.get_mut(i..i + 3) {
                p.copy_from_slice(&color);
            }
        }
    }
    r
}

fn date_text(d: Date, format: DateFormat) -> String {
    format_date(d, format)
}

fn sex_text(s: Sex) -> &'static str {
    s.code()
}

/// Draws the page for `id`.
pub(crate) fn draw(
    fonts: &Fonts,
    id: &Identity,
    face: Option<&[u8]>,
    variant: &Variant,
    rng: &mut SeedRng,
) -> Drawn {
    let geometry = match id.format {
        DocFormat::Td1 => Geometry {
            card_w: 85.6,
            card_h: 54.0,
            margin: 6.0,
        },
        DocFormat::Td3 => Geometry {
            card_w: 125.0,
            card_h: 88.0,
            margin: 7.0,
        },
    };
    let scale = variant.dpi as f32 / 25.4;
    let page_w = ((geometry.card_w + 2.0 * geometry.margin) * scale).round() as usize;
    let page_h = ((geometry.card_h + 2.0 * geometry.margin) * scale).round() as usize;
    let mut p = Painter {
        page: Raster::filled(page_w, page_h, &SCANNER_BED),
        fonts,
        scale,
        ox: geometry.margin,
        oy: geometry.margin,
    };
    p.card(&geometry, rng);
    let candidates: Vec<&'static LabelSet> = LABEL_SETS
        .iter()
        .filter(|l| id.format == DocFormat::Td3 || l.fits_card)
        .collect();
    let labels: &'static LabelSet = rng.pick(&candidates).copied().unwrap_or(&LABEL_SETS[0]);
    let date_format = *rng
        .pick(DATE_FORMATS)
        .unwrap_or(&DateFormat::DotsDayMonthYear);
    let birth = date_text(id.birth_date, date_format);
    let expiry = date_text(id.expiry_date, date_format);
    match id.format {
        DocFormat::Td1 => {
            let (lp, vp) = (5.0, 8.0);
            p.text(true, 7.5, 4.0, 5.6, TITLE_INK, labels.card_title);
            let state = id.issuing_state.clone();
            p.text(true, 9.0, 72.0, 5.8, TITLE_INK, &state);
            p.photo(3.5, 9.0, 21.0, 27.0, face);
            let x = 28.0;
            p.field(lp, vp, x, 10.0, labels.surname, &id.surname);
            p.field(lp, vp, x, 16.2, labels.given_names, &id.given_names);
            p.field(lp, vp, x, 22.4, labels.sex, sex_text(id.sex));
            p.field(lp, vp, x + 16.0, 22.4, labels.nationality, &id.nationality);
            p.field(lp, vp, x, 28.6, labels.birth_date, &birth);
            p.field(lp, vp, x + 30.0, 28.6, labels.expiry_date, &expiry);
            p.field(lp, vp, x, 34.8, labels.document_number, &id.document_number);
            p.mrz(&geometry, &id.mrz, 2.2, 4.0);
        }
        DocFormat::Td3 => {
            let (lp, vp) = (5.6, 9.0);
            p.text(true, 10.0, 5.0, 7.5, TITLE_INK, labels.passport_title);
            p.photo(5.0, 12.0, 33.0, 43.0, face);
            let (a, b) = (43.0, 85.0);
            let issue = date_text(id.issue_date, date_format);
            p.field(lp, vp, a, 13.0, labels.doc_type, "P");
            p.field(lp, vp, a + 16.0, 13.0, labels.code, &id.issuing_state);
            p.field(lp, vp, b, 13.0, labels.passport_number, &id.document_number);
            p.field(lp, vp, a, 20.4, labels.surname, &id.surname);
            p.field(lp, vp, a, 27.8, labels.given_names, &id.given_names);
            p.field(lp, vp, a, 35.2, labels.nationality, &id.nationality);
            p.field(lp, vp, a, 42.6, labels.birth_date, &birth);
            p.field(lp, vp, b, 42.6, labels.sex, sex_text(id.sex));
            p.field(lp, vp, a, 50.0, labels.place_of_birth, &id.place_of_birth);
            p.field(lp, vp, a, 57.4, labels.issue_date, &issue);
            p.field(lp, vp, b, 57.4, labels.expiry_date, &expiry);
            let authority = format!("{} {}", "MINISTRY OF INTERIOR", id.issuing_state);
            p.field(lp, vp, a, 64.8, labels.authority, &authority);
            p.mrz(&geometry, &id.mrz, 4.0, 5.6);
        }
    }
    add_noise(&mut p.page, rng);
    Drawn {
        page: p.page,
        labels,
    }
}

/// Faint sensor noise (±3 levels), so flat areas are not perfectly flat.
fn add_noise(page: &mut Raster, rng: &mut SeedRng) {
    let mut state = rng.next_u64() | 1;
    for v in page.data_mut() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let delta = (state % 7) as i16 - 3;
        *v = (i16::from(*v) + delta).clamp(0, 255) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyc_core::document::{classify_label, LabelKind};

    #[test]
    fn every_label_drawn_is_understood_by_the_normaliser() {
        for set in LABEL_SETS {
            let expect = [
                (set.surname, LabelKind::Surname),
                (set.given_names, LabelKind::GivenNames),
                (set.birth_date, LabelKind::BirthDate),
                (set.sex, LabelKind::Sex),
                (set.nationality, LabelKind::Nationality),
                (set.document_number, LabelKind::DocumentNumber),
                (set.passport_number, LabelKind::DocumentNumber),
                (set.expiry_date, LabelKind::ExpiryDate),
                (set.issue_date, LabelKind::IssueDate),
                (set.place_of_birth, LabelKind::PlaceOfBirth),
                (set.authority, LabelKind::IssuingAuthority),
            ];
            for (label, kind) in expect {
                assert_eq!(classify_label(label, false), Some(kind), "{label}");
            }
        }
    }

    #[test]
    fn the_placeholder_face_has_the_requested_size() {
        let r = placeholder_face(30, 40);
        assert_eq!((r.width(), r.height(), r.channels()), (30, 40, 3));
    }

    #[test]
    fn a_photo_that_does_not_decode_gives_nothing() {
        assert!(fitted_photo(b"not an image", 10, 10).is_none());
    }
}
