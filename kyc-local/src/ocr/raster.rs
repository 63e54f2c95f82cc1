//! Small raster operations on 8-bit images (any channel count, row-major, no padding) shared by
//! the reader's preprocessing and the document generator: rotation, Gaussian blur, Otsu's
//! threshold, area downscaling. Written for speed in plain loops; no input can make them panic
//! (sizes are checked, every index is computed from the buffer's own dimensions).

/// An 8-bit raster: `width × height` pixels of `channels` bytes each, row-major.
#[derive(Clone, PartialEq, Eq)]
pub struct Raster {
    width: usize,
    height: usize,
    channels: usize,
    data: Vec<u8>,
}

impl std::fmt::Debug for Raster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Raster({}x{}x{})",
            self.width, self.height, self.channels
        )
    }
}

impl Raster {
    /// A raster filled with `fill` (one value per channel; `channels` = `fill.len()`).
    pub fn filled(width: usize, height: usize, fill: &[u8]) -> Self {
        let channels = fill.len().max(1);
        let mut data = Vec::with_capacity(width * height * channels);
        for _ in 0..width * height {
            if fill.is_empty() {
                data.push(0);
            } else {
                data.extend_from_slice(fill);
            }
        }
        Self {
            width,
            height,
            channels,
            data,
        }
    }

    /// Wraps a buffer; `None` when its length does not match the dimensions.
    pub fn from_vec(width: usize, height: usize, channels: usize, data: Vec<u8>) -> Option<Self> {
        let expected = width.checked_mul(height)?.checked_mul(channels)?;
        (channels > 0 && data.len() == expected).then_some(Self {
            width,
            height,
            channels,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Bytes per pixel.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The pixel bytes, row-major.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The pixel bytes, mutable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// The buffer.
    pub fn into_vec(self) -> Vec<u8> {
        self.data
    }

    /// One row's bytes (empty when out of range).
    pub fn row(&self, y: usize) -> &[u8] {
        let stride = self.width * self.channels;
        self.data.get(y * stride..(y + 1) * stride).unwrap_or(&[])
    }

    /// Channel `c` of pixel (x, y), `None` out of range.
    pub fn get(&self, x: usize, y: usize, c: usize) -> Option<u8> {
        if x >= self.width || y >= self.height || c >= self.channels {
            return None;
        }
        self.data
            .get((y * self.width + x) * self.channels + c)
            .copied()
    }

    /// The luma of a 1- or 3-channel raster (other counts: the first channel).
    pub fn to_gray(&self) -> Raster {
        if self.channels == 1 {
            return self.clone();
        }
        let mut out = Vec::with_capacity(self.width * self.height);
        for px in self.data.chunks_exact(self.channels) {
            let v = match px {
                [r, g, b, ..] => {
                    (u32::from(*r) * 299 + u32::from(*g) * 587 + u32::from(*b) * 114) / 1000
                }
                [v, ..] => u32::from(*v),
                [] => 0,
            };
            out.push(u8::try_from(v).unwrap_or(u8::MAX));
        }
        Raster {
            width: self.width,
            height: self.height,
            channels: 1,
            data: out,
        }
    }

    /// The sub-rectangle `(x, y, w, h)`, clipped to the raster.
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Raster {
        let x0 = x.min(self.width);
        let y0 = y.min(self.height);
        let x1 = x.saturating_add(w).min(self.width);
        let y1 = y.saturating_add(h).min(self.height);
        let (cw, ch) = (x1 - x0, y1 - y0);
        let mut data = Vec::with_capacity(cw * ch * self.channels);
        for yy in y0..y1 {
            let row = self.row(yy);
            data.extend_from_slice(
                row.get(x0 * self.channels..x1 * self.channels)
                    .unwrap_or(&[]),
            );
        }
        Raster {
            width: cw,
            height: ch,
            channels: self.channels,
            data,
        }
    }

    /// Rotated by `degrees` counter-clockwise (as seen on screen, y down) about the centre,
    /// same size, bilinear; pixels from outside take `fill` (one value per channel).
    pub fn rotate(&self, degrees: f32, fill: &[u8]) -> Raster {
        let (w, h, ch) = (self.width, self.height, self.channels);
        let mut out = Raster::filled(w, h, &fill_for(fill, ch));
        if w == 0 || h == 0 {
            return out;
        }
        let (sin, cos) = degrees.to_radians().sin_cos();
        let (cx, cy) = ((w as f32 - 1.0) / 2.0, (h as f32 - 1.0) / 2.0);
        let stride = w * ch;
        let fill = fill_for(fill, ch);
        for oy in 0..h {
            let dy = oy as f32 - cy;
            // Inverse mapping: the source of (ox, oy) is the point rotated back by the angle.
            // On screen (y down) a counter-clockwise turn by θ maps (x, y) to
            // (x cosθ + y sinθ, −x sinθ + y cosθ); its inverse is used here.
            let base_x = -dy * sin + cx;
            let base_y = dy * cos + cy;
            let row_start = oy * stride;
            for ox in 0..w {
                let dx = ox as f32 - cx;
                let sx = dx * cos + base_x;
                let sy = dx * sin + base_y;
                if sx < -1.0 || sy < -1.0 || sx > w as f32 || sy > h as f32 {
                    continue;
                }
                let x0 = sx.floor();
                let y0 = sy.floor();
                let fx = sx - x0;
                let fy = sy - y0;
                let (x0, y0) = (x0 as isize, y0 as isize);
                for c in 0..ch {
                    let at = |x: isize, y: isize| -> f32 {
                        if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
                            f32::from(fill.get(c).copied().unwrap_or(255))
                        } else {
                            let i = (y as usize * w + x as usize) * ch + c;
                            f32::from(self.data.get(i).copied().unwrap_or(255))
                        }
                    };
                    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
                    let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
                    let v = top * (1.0 - fy) + bottom * fy;
                    if let Some(p) = out.data.get_mut(row_start + ox * ch + c) {
                        *p = v.round().clamp(0.0, 255.0) as u8;
                    }
                }
            }
        }
        out
    }

    /// Gaussian blur with standard deviation `sigma` pixels (separable, kernel radius 3σ);
    /// `sigma` ≤ 0.05 returns a copy.
    pub fn gaussian_blur(&self, sigma: f32) -> Raster {
        if sigma.is_nan() || sigma <= 0.05 || self.width == 0 || self.height == 0 {
            return self.clone();
        }
        let radius = (sigma * 3.0).ceil().clamp(1.0, 50.0) as usize;
        let mut kernel: Vec<f32> = (0..=2 * radius)
            .map(|i| {
                let d = i as f32 - radius as f32;
                (-(d * d) / (2.0 * sigma * sigma)).exp()
            })
            .collect();
        let sum: f32 = kernel.iter().sum();
        kernel.iter_mut().for_each(|k| *k /= sum);
        let (w, h, ch) = (self.width, self.height, self.channels);
        let mut tmp = vec![0f32; w * h * ch];
        // Horizontal pass.
        for y in 0..h {
            for x in 0..w {
                for c in 0..ch {
                    let mut acc = 0.0;
                    for (k, weight) in kernel.iter().enumerate() {
                        let sx = (x + k).saturating_sub(radius).min(w - 1);
                        acc += weight
                            * f32::from(self.data.get((y * w + sx) * ch + c).copied().unwrap_or(0));
                    }
                    if let Some(t) = tmp.get_mut((y * w + x) * ch + c) {
                        *t = acc;
                    }
                }
            }
        }
        // Vertical pass.
        let mut out = vec![0u8; w * h * ch];
        for y in 0..h {
            for x in 0..w {
                for c in 0..ch {
                    let mut acc = 0.0;
                    for (k, weight) in kernel.iter().enumerate() {
                        let sy = (y + k).saturating_sub(radius).min(h - 1);
                        acc += weight * tmp.get((sy * w + x) * ch + c).copied().unwrap_or(0.0);
                    }
                    if let Some(o) = out.get_mut((y * w + x) * ch + c) {
                        *o = acc.round().clamp(0.0, 255.0) as u8;
                    }
                }
            }
        }
        Raster {
            width: w,
            height: h,
            channels: ch,
            data: out,
        }
    }

    /// Downscaled by an integer `factor` (≥ 1), each output pixel the mean of its block.
    pub fn downscale(&self, factor: usize) -> Raster {
        let factor = factor.max(1);
        if factor == 1 {
            return self.clone();
        }
        let (w, h, ch) = (self.width / factor, self.height / factor, self.channels);
        let mut out = vec![0u8; w * h * ch];
        let area = (factor * factor) as u32;
        let mut acc = vec![0u32; w * ch];
        for oy in 0..h {
            acc.iter_mut().for_each(|a| *a = 0);
            for sy in oy * factor..(oy + 1) * factor {
                let row = self.row(sy);
                for ox in 0..w {
                    for sx in ox * factor..(ox + 1) * factor {
                        for c in 0..ch {
                            let v = row.get(sx * ch + c).copied().unwrap_or(0);
                            if let Some(a) = acc.get_mut(ox * ch + c) {
                                *a += u32::from(v);
                            }
                        }
                    }
                }
            }
            for (i, a) in acc.iter().enumerate() {
                if let Some(o) = out.get_mut(oy * w * ch + i) {
                    *o = u8::try_from(a / area).unwrap_or(u8::MAX);
                }
            }
        }
        Raster {
            width: w,
            height: h,
            channels: ch,
            data: out,
        }
    }

    /// Resized to `new_w × new_h` by bilinear interpolation (for enlargements and mild
    /// reductions; use [`Raster::downscale`] first for large reductions).
    pub fn resize_bilinear(&self, new_w: usize, new_h: usize) -> Raster {
        let ch = self.channels;
        let mut out = vec![0u8; new_w * new_h * ch];
        if self.width == 0 || self.height == 0 || new_w == 0 || new_h == 0 {
            return Raster {
                width: new_w,
                height: new_h,
                channels: ch,
                data: out,
            };
        }
        let sx_scale = self.width as f32 / new_w as f32;
        let sy_scale = self.height as f32 / new_h as f32;
        let max_x = self.width - 1;
        let max_y = self.height - 1;
        for oy in 0..new_h {
            let sy = ((oy as f32 + 0.5) * sy_scale - 0.5).max(0.0);
            let y0 = (sy.floor() as usize).min(max_y);
            let y1 = (y0 + 1).min(max_y);
            let fy = sy - y0 as f32;
            for ox in 0..new_w {
                let sx = ((ox as f32 + 0.5) * sx_scale - 0.5).max(0.0);
                let x0 = (sx.floor() as usize).min(max_x);
                let x1 = (x0 + 1).min(max_x);
                let fx = sx - x0 as f32;
                for c in 0..ch {
                    let p = |x: usize, y: usize| {
                        f32::from(
                            self.data
                                .get((y * self.width + x) * ch + c)
                                .copied()
                                .unwrap_or(0),
                        )
                    };
                    let v = (p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx) * (1.0 - fy)
                        + (p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx) * fy;
                    if let Some(o) = out.get_mut((oy * new_w + ox) * ch + c) {
                        *o = v.round().clamp(0.0, 255.0) as u8;
                    }
                }
            }
        }
        Raster {
            width: new_w,
            height: new_h,
            channels: ch,
            data: out,
        }
    }
}

fn fill_for(fill: &[u8], channels: usize) -> Vec<u8> {
    (0..channels)
        .map(|c| fill.get(c).or(fill.first()).copied().unwrap_or(255))
        .collect()
}

/// Otsu's threshold of a gray histogram: the level that best separates dark from light.
pub fn otsu_threshold(gray: &[u8]) -> u8 {
    let mut hist = [0u64; 256];
    for &v in gray {
        if let Some(h) = hist.get_mut(usize::from(v)) {
            *h += 1;
        }
    }
    otsu_from_histogram(&hist)
}

/// Otsu's threshold from a 256-bin histogram.
pub fn otsu_from_histogram(hist: &[u64; 256]) -> u8 {
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return 128;
    }
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut w_b, mut sum_b, mut best, mut best_t) = (0u64, 0f64, -1f64, 128u8);
    for (t, &c) in hist.iter().enumerate() {
        w_b += c;
        if w_b == 0 {
            continue;
        }
        let w_f = total - w_b;
        if w_f == 0 {
            break;
        }
        sum_b += t as f64 * c as f64;
        let m_b = sum_b / w_b as f64;
        let m_f = (sum_all - sum_b) / w_f as f64;
        let between = w_b as f64 * w_f as f64 * (m_b - m_f) * (m_b - m_f);
        if between > best {
            best = between;
            best_t = u8::try_from(t).unwrap_or(128);
        }
    }
    best_t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gray(w: usize, h: usize, f: impl Fn(usize, usize) -> u8) -> Raster {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.push(f(x, y));
            }
        }
        Raster::from_vec(w, h, 1, data).unwrap()
    }

    #[test]
    fn rotation_by_zero_degrees_keeps_the_image() {
        let r = gray(17, 9, |x, y| ((x * 13 + y * 7) % 256) as u8);
        assert_eq!(r.rotate(0.0, &[255]), r);
    }

    #[test]
    fn rotation_by_ninety_degrees_turns_a_bar_upright() {
        // A horizontal bar through the centre of a square becomes a vertical one.
        let r = gray(21, 21, |_, y| if y == 10 { 0 } else { 255 });
        let t = r.rotate(90.0, &[255]);
        assert_eq!(t.get(10, 2, 0), Some(0));
        assert_eq!(t.get(10, 18, 0), Some(0));
        assert_eq!(t.get(2, 10, 0), Some(255));
    }

    #[test]
    fn counter_clockwise_rotation_lifts_the_right_end_of_a_bar() {
        let r = gray(
            101,
            101,
            |x, y| if y == 50 && x > 10 && x < 90 { 0 } else { 255 },
        );
        let t = r.rotate(10.0, &[255]);
        // On screen, counter-clockwise: the right end moves up (smaller y).
        let dark_rows_at = |x: usize| (0..101).filter(|&y| t.get(x, y, 0).unwrap() < 128).min();
        assert!(dark_rows_at(85).unwrap() < 50);
        assert!(dark_rows_at(15).unwrap() > 50);
    }

    #[test]
    fn blur_keeps_a_flat_image_flat_and_spreads_an_edge() {
        let flat = gray(12, 12, |_, _| 77);
        assert_eq!(flat.gaussian_blur(1.0), flat);
        let edge = gray(20, 3, |x, _| if x < 10 { 0 } else { 255 });
        let b = edge.gaussian_blur(1.0);
        let v9 = b.get(9, 1, 0).unwrap();
        assert!(v9 > 0 && v9 < 255);
    }

    #[test]
    fn otsu_separates_two_levels() {
        let mut data = vec![30u8; 500];
        data.extend(vec![220u8; 500]);
        let t = otsu_threshold(&data);
        assert!((30..220).contains(&t));
    }

    #[test]
    fn crop_and_downscale_clip_instead_of_panicking() {
        let r = gray(10, 10, |x, _| x as u8);
        assert_eq!(r.crop(8, 8, 100, 100).width(), 2);
        assert_eq!(r.crop(50, 50, 3, 3).width(), 0);
        assert_eq!(r.downscale(3).width(), 3);
        assert_eq!(r.downscale(0).width(), 10);
        assert_eq!(r.resize_bilinear(0, 5).width(), 0);
        assert_eq!(Raster::filled(0, 0, &[1]).rotate(3.0, &[1]).width(), 0);
    }
}
