//! Page analysis before OCR, from the image content alone (no layout is assumed): adaptive
//! binarisation, connected components, the skew angle (projection of character baselines), text
//! lines, and the machine-readable zone — the lowest group of two or three stacked lines of
//! evenly spaced, equally high characters (a monospaced font at a fixed pitch), which is what
//! ICAO 9303 prescribes for every MRZ and what proportional printed text is not.

use super::raster::Raster;

/// A connected component of dark pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Component {
    /// Left edge (inclusive).
    pub x0: u32,
    /// Top edge (inclusive).
    pub y0: u32,
    /// Right edge (exclusive).
    pub x1: u32,
    /// Bottom edge (exclusive).
    pub y1: u32,
    /// Dark pixels.
    pub area: u32,
}

impl Component {
    fn width(&self) -> f32 {
        (self.x1 - self.x0) as f32
    }
    fn height(&self) -> f32 {
        (self.y1 - self.y0) as f32
    }
    fn cx(&self) -> f32 {
        (self.x0 + self.x1) as f32 / 2.0
    }
    fn cy(&self) -> f32 {
        (self.y0 + self.y1) as f32 / 2.0
    }
}

/// Dark pixels by Bradley's adaptive threshold: darker than `(100 − percent)` % of the mean of
/// the `window × window` neighbourhood (integral image, linear time). Robust to uneven light
/// and to pale background patterns.
pub fn binarise_adaptive(gray: &Raster, window: usize, percent: u32) -> Vec<bool> {
    let (w, h) = (gray.width(), gray.height());
    let mut integral = vec![0u64; (w + 1) * (h + 1)];
    for y in 0..h {
        let row = gray.row(y);
        let mut run = 0u64;
        for x in 0..w {
            run += u64::from(row.get(x).copied().unwrap_or(255));
            let above = integral.get(y * (w + 1) + x + 1).copied().unwrap_or(0);
            if let Some(cell) = integral.get_mut((y + 1) * (w + 1) + x + 1) {
                *cell = above + run;
            }
        }
    }
    let half = (window / 2).max(1);
    let mut out = vec![false; w * h];
    let keep = u64::from(100u32.saturating_sub(percent));
    for y in 0..h {
        let (ya, yb) = (y.saturating_sub(half), (y + half + 1).min(h));
        let row = gray.row(y);
        for x in 0..w {
            let (xa, xb) = (x.saturating_sub(half), (x + half + 1).min(w));
            let at = |yy: usize, xx: usize| integral.get(yy * (w + 1) + xx).copied().unwrap_or(0);
            let sum = at(yb, xb) + at(ya, xa) - at(ya, xb) - at(yb, xa);
            let count = ((yb - ya) * (xb - xa)) as u64;
            let v = u64::from(row.get(x).copied().unwrap_or(255));
            if let Some(o) = out.get_mut(y * w + x) {
                *o = v * count * 100 < sum * keep;
            }
        }
    }
    out
}

/// The 8-connected components of `mask` (`width × height`), at most `max` of them (the rest
/// are ignored: a page has a few thousand; noise must not make this unbounded).
pub fn components(mask: &[bool], width: usize, height: usize, max: usize) -> Vec<Component> {
    let mut labels = vec![0u32; width * height];
    let mut out = Vec::new();
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for y in 0..height {
        for x in 0..width {
            let i = y * width + x;
            if !mask.get(i).copied().unwrap_or(false) || labels.get(i).copied().unwrap_or(1) != 0 {
                continue;
            }
            if out.len() >= max {
                return out;
            }
            let id = u32::try_from(out.len() + 1).unwrap_or(u32::MAX);
            let mut c = Component {
                x0: x as u32,
                y0: y as u32,
                x1: x as u32 + 1,
                y1: y as u32 + 1,
                area: 0,
            };
            stack.clear();
            stack.push((x, y));
            if let Some(l) = labels.get_mut(i) {
                *l = id;
            }
            while let Some((px, py)) = stack.pop() {
                c.area += 1;
                c.x0 = c.x0.min(px as u32);
                c.y0 = c.y0.min(py as u32);
                c.x1 = c.x1.max(px as u32 + 1);
                c.y1 = c.y1.max(py as u32 + 1);
                for dy in -1i64..=1 {
                    for dx in -1i64..=1 {
                        let (nx, ny) = (px as i64 + dx, py as i64 + dy);
                        if nx < 0 || ny < 0 || nx >= width as i64 || ny >= height as i64 {
                            continue;
                        }
                        let j = ny as usize * width + nx as usize;
                        if mask.get(j).copied().unwrap_or(false)
                            && labels.get(j).copied() == Some(0)
                        {
                            if let Some(l) = labels.get_mut(j) {
                                *l = id;
                            }
                            stack.push((nx as usize, ny as usize));
                        }
                    }
                }
            }
            out.push(c);
        }
    }
    out
}

/// Components that could be characters: not specks, not lines, not photos.
pub fn character_like(comps: &[Component], page_h: usize) -> Vec<Component> {
    let max_h = (page_h as f32 * 0.08).max(8.0);
    comps
        .iter()
        .copied()
        .filter(|c| {
            let (w, h) = (c.width(), c.height());
            h >= 5.0 && h <= max_h && w >= 1.0 && w <= 3.0 * h && c.area >= 8
        })
        .collect()
}

/// The skew of the text in degrees, counter-clockwise as seen on screen: the angle within
/// ±`max_deg` whose projection of character bottoms is sharpest (largest sum of squared bin
/// counts). Rotating the page by the negative of this angle levels the text.
pub fn estimate_skew(chars: &[Component], max_deg: f32) -> f32 {
    if chars.len() < 10 {
        return 0.0;
    }
    let points: Vec<(f32, f32)> = chars.iter().map(|c| (c.cx(), c.y1 as f32)).collect();
    let score = |deg: f32| -> f64 {
        let (sin, cos) = deg.to_radians().sin_cos();
        let mut bins: std::collections::HashMap<i64, u32> = std::collections::HashMap::new();
        for &(x, y) in &points {
            // The ordinate after turning the page by −deg.
            let b = ((x * sin + y * cos) / 1.5).round() as i64;
            *bins.entry(b).or_insert(0) += 1;
        }
        bins.values().map(|&n| f64::from(n) * f64::from(n)).sum()
    };
    let mut best = (0.0f32, score(0.0));
    let mut step = 0.5f32;
    let mut lo = -max_deg;
    let mut hi = max_deg;
    while step >= 0.04 {
        let mut a = lo;
        while a <= hi + 1e-4 {
            let s = score(a);
            if s > best.1 {
                best = (a, s);
            }
            a += step;
        }
        lo = best.0 - step;
        hi = best.0 + step;
        step /= 4.0;
    }
    best.0
}

/// A component after the page was turned to level the text.
#[derive(Clone, Copy, Debug)]
struct Levelled {
    cx: f32,
    cy: f32,
    w: f32,
    h: f32,
}

/// A run of characters on one text line.
#[derive(Clone, Debug)]
pub struct TextLine {
    /// Left edge, in levelled page coordinates.
    pub x0: f32,
    /// Right edge.
    pub x1: f32,
    /// Top.
    pub y0: f32,
    /// Bottom.
    pub y1: f32,
    /// Number of characters (components).
    pub count: usize,
    /// Median distance between neighbouring character centres.
    pub pitch: f32,
    /// Share of neighbour distances within 15 % of the pitch (1.0 for a monospaced run).
    pub regularity: f32,
    /// The height of full-size characters (75th percentile of component heights).
    pub char_height: f32,
}

impl TextLine {
    /// Whether this looks like an MRZ line: many characters, evenly spaced, the pitch close to
    /// the character height.
    pub fn is_mrz_like(&self) -> bool {
        self.count >= 20
            && self.regularity >= 0.75
            && self.pitch >= 0.6 * self.char_height
            && self.pitch <= 1.8 * self.char_height
    }
}

/// Where the MRZ is, in levelled page coordinates, and its character size.
#[derive(Clone, Debug)]
pub struct MrzBand {
    /// Left edge.
    pub x0: f32,
    /// Top.
    pub y0: f32,
    /// Right edge.
    pub x1: f32,
    /// Bottom.
    pub y1: f32,
    /// The lines found in it.
    pub lines: usize,
    /// Character height in pixels.
    pub char_height: f32,
    /// Character pitch in pixels.
    pub pitch: f32,
}

/// Turns component centres by −`deg` about (`cx`, `cy`) so text lines are level.
fn level(chars: &[Component], deg: f32, cx: f32, cy: f32) -> Vec<Levelled> {
    let (sin, cos) = (-deg).to_radians().sin_cos();
    chars
        .iter()
        .map(|c| {
            let (dx, dy) = (c.cx() - cx, c.cy() - cy);
            Levelled {
                cx: dx * cos + dy * sin + cx,
                cy: -dx * sin + dy * cos + cy,
                w: c.width(),
                h: c.height(),
            }
        })
        .collect()
}

fn median(values: &mut [f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f32::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn percentile(values: &mut [f32], p: f32) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f32::total_cmp);
    let i = ((values.len() - 1) as f32 * p).round() as usize;
    values.get(i).copied().unwrap_or(0.0)
}

/// Groups levelled characters into text lines: characters whose centres lie within 40 % of
/// their height of each other vertically, split where the horizontal gap exceeds twice the
/// height.
pub fn text_lines(chars: &[Component], deg: f32, page_w: usize, page_h: usize) -> Vec<TextLine> {
    let levelled = level(chars, deg, page_w as f32 / 2.0, page_h as f32 / 2.0);
    let mut order: Vec<usize> = (0..levelled.len()).collect();
    order.sort_by(|&a, &b| {
        let (la, lb) = (levelled.get(a), levelled.get(b));
        la.map(|l| l.cy)
            .unwrap_or(0.0)
            .total_cmp(&lb.map(|l| l.cy).unwrap_or(0.0))
    });
    // Rows: a character joins the current row when its centre is close to the row's mean.
    let mut rows: Vec<Vec<Levelled>> = Vec::new();
    for i in order {
        let Some(&c) = levelled.get(i) else { continue };
        let joined = rows.iter_mut().rev().take(3).find(|row| {
            let n = row.len() as f32;
            let mean_cy = row.iter().map(|r| r.cy).sum::<f32>() / n;
            let mean_h = row.iter().map(|r| r.h).sum::<f32>() / n;
            (c.cy - mean_cy).abs() < 0.4 * mean_h.max(c.h)
                && c.h < 2.2 * mean_h
                && mean_h < 2.2 * c.h
        });
        match joined {
            Some(row) => row.push(c),
            None => rows.push(vec![c]),
        }
    }
    let mut lines = Vec::new();
    for mut row in rows {
        row.sort_by(|a, b| a.cx.total_cmp(&b.cx));
        let mut heights: Vec<f32> = row.iter().map(|c| c.h).collect();
        let row_h = median(&mut heights).max(1.0);
        let mut start = 0;
        for i in 1..=row.len() {
            let split = match (row.get(i - 1), row.get(i)) {
                (Some(a), Some(b)) => (b.cx - b.w / 2.0) - (a.cx + a.w / 2.0) > 2.0 * row_h,
                _ => true,
            };
            if split {
                if let Some(run) = row.get(start..i) {
                    if let Some(line) = summarise(run) {
                        lines.push(line);
                    }
                }
                start = i;
            }
        }
    }
    lines
}

fn summarise(run: &[Levelled]) -> Option<TextLine> {
    let first = run.first()?;
    let mut x0 = first.cx - first.w / 2.0;
    let mut x1 = first.cx + first.w / 2.0;
    let mut y0 = first.cy - first.h / 2.0;
    let mut y1 = first.cy + first.h / 2.0;
    for c in run {
        x0 = x0.min(c.cx - c.w / 2.0);
        x1 = x1.max(c.cx + c.w / 2.0);
        y0 = y0.min(c.cy - c.h / 2.0);
        y1 = y1.max(c.cy + c.h / 2.0);
    }
    let mut gaps: Vec<f32> = run
        .windows(2)
        .map(|w| match w {
            [a, b] => b.cx - a.cx,
            _ => 0.0,
        })
        .collect();
    let pitch = median(&mut gaps.clone());
    let regular = gaps
        .iter()
        .filter(|&&g| pitch > 0.0 && (g - pitch).abs() <= 0.15 * pitch)
        .count();
    let regularity = if gaps.is_empty() {
        0.0
    } else {
        regular as f32 / gaps.len() as f32
    };
    gaps.clear();
    let mut heights: Vec<f32> = run.iter().map(|c| c.h).collect();
    Some(TextLine {
        x0,
        x1,
        y0,
        y1,
        count: run.len(),
        pitch,
        regularity,
        char_height: percentile(&mut heights, 0.75),
    })
}

/// The MRZ: the lowest group of two or three MRZ-like lines stacked at a regular spacing with
/// the same pitch and left edge. `None` when the page has none.
pub fn find_mrz(lines: &[TextLine]) -> Option<MrzBand> {
    let mut mrz: Vec<&TextLine> = lines.iter().filter(|l| l.is_mrz_like()).collect();
    mrz.sort_by(|a, b| a.y0.total_cmp(&b.y0));
    let mut groups: Vec<Vec<&TextLine>> = Vec::new();
    for line in mrz {
        let joins = groups.last().and_then(|g| g.last()).is_some_and(|prev| {
            let spacing = line.y0 - prev.y0;
            spacing > 0.5 * prev.char_height
                && spacing < 3.0 * prev.char_height.max(line.char_height)
                && (line.pitch - prev.pitch).abs() <= 0.15 * prev.pitch
                && (line.x0 - prev.x0).abs() <= 2.5 * prev.pitch
        });
        match (joins, groups.last_mut()) {
            (true, Some(g)) => g.push(line),
            _ => groups.push(vec![line]),
        }
    }
    // The lowest group of at least two lines, else the lowest single line.
    let group = groups
        .iter()
        .rev()
        .find(|g| g.len() >= 2)
        .or_else(|| groups.last())?;
    let group: Vec<&TextLine> = if group.len() > 3 {
        group.get(group.len() - 3..)?.to_vec()
    } else {
        group.clone()
    };
    let mut heights: Vec<f32> = group.iter().map(|l| l.char_height).collect();
    let mut pitches: Vec<f32> = group.iter().map(|l| l.pitch).collect();
    let char_height = median(&mut heights);
    let pitch = median(&mut pitches);
    Some(MrzBand {
        x0: group.iter().map(|l| l.x0).fold(f32::MAX, f32::min),
        y0: group.iter().map(|l| l.y0).fold(f32::MAX, f32::min),
        x1: group.iter().map(|l| l.x1).fold(f32::MIN, f32::max),
        y1: group.iter().map(|l| l.y1).fold(f32::MIN, f32::max),
        lines: group.len(),
        char_height,
        pitch,
    })
}

/// The typical height of printed characters on the page (median over lines of three or more
/// characters), for choosing a working scale when there is no MRZ.
pub fn typical_char_height(lines: &[TextLine]) -> Option<f32> {
    let mut h: Vec<f32> = lines
        .iter()
        .filter(|l| l.count >= 3)
        .map(|l| l.char_height)
        .collect();
    (!h.is_empty()).then(|| median(&mut h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comp(x: u32, y: u32, w: u32, h: u32) -> Component {
        Component {
            x0: x,
            y0: y,
            x1: x + w,
            y1: y + h,
            area: w * h / 2,
        }
    }

    /// A monospaced line of `n` characters and a proportional one above it.
    fn page(skew_deg: f32) -> Vec<Component> {
        let mut v = Vec::new();
        let tan = skew_deg.to_radians().tan();
        for row in 0..3u32 {
            for i in 0..30u32 {
                let x = 40 + i * 20;
                let y = 300 + row * 32;
                let dy = -(x as f32 * tan);
                v.push(comp(x, (y as f32 + dy) as u32, 14, 18));
            }
        }
        let mut x = 40u32;
        for i in 0..25u32 {
            let w = 6 + (i * 7) % 11;
            let dy = -(x as f32 * tan);
            v.push(comp(x, (150.0 + dy) as u32, w, 16));
            x += w + 3 + if i % 5 == 4 { 14 } else { 0 };
        }
        v
    }

    #[test]
    fn the_skew_of_tilted_lines_is_found() {
        for deg in [-4.0f32, -1.5, 0.0, 2.0, 5.0] {
            let est = estimate_skew(&page(deg), 8.0);
            assert!((est - deg).abs() < 0.3, "{deg} estimated as {est}");
        }
    }

    #[test]
    fn the_monospaced_block_is_the_mrz_and_the_proportional_line_is_not() {
        let comps = page(0.0);
        let lines = text_lines(&comps, 0.0, 800, 500);
        let band = find_mrz(&lines).unwrap();
        assert_eq!(band.lines, 3);
        assert!(band.y0 >= 290.0 && band.y0 <= 310.0, "{band:?}");
        assert!((band.pitch - 20.0).abs() < 1.0);
        let proportional = lines.iter().find(|l| l.y0 < 200.0).unwrap();
        assert!(!proportional.is_mrz_like());
    }

    #[test]
    fn a_page_without_characters_has_no_mrz_and_no_skew() {
        assert!(find_mrz(&[]).is_none());
        assert_eq!(estimate_skew(&[], 5.0), 0.0);
        assert!(typical_char_height(&[]).is_none());
    }

    #[test]
    fn components_are_counted_and_bounded() {
        let (w, h) = (10, 4);
        let mut mask = vec![false; w * h];
        for i in [0, 1, 11, 5, 6, 38] {
            mask[i] = true;
        }
        let c = components(&mask, w, h, 100);
        assert_eq!(c.len(), 3);
        assert_eq!(components(&mask, w, h, 2).len(), 2);
        assert!(components(&[], 0, 0, 10).is_empty());
    }

    #[test]
    fn adaptive_threshold_finds_dark_text_on_a_pale_pattern() {
        let mut data = Vec::new();
        for y in 0..40usize {
            for x in 0..40usize {
                let bg = if (x + y) % 7 == 0 { 215 } else { 235 };
                data.push(if (18..22).contains(&x) && (10..30).contains(&y) {
                    40
                } else {
                    bg
                });
            }
        }
        let g = Raster::from_vec(40, 40, 1, data).unwrap();
        let mask = binarise_adaptive(&g, 15, 15);
        assert!(mask[20 * 40 + 20]);
        assert_eq!(mask.iter().filter(|&&d| d).count(), 4 * 20);
    }
}
