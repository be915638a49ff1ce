//! STL: seasonal-trend decomposition by LOESS.
//!
//! This follows the definitions in statsmodels 0.15.0, `statsmodels/tsa/stl/_stl.pyx`, which is
//! itself a port of the NETLIB Fortran of Cleveland, Cleveland, McRae and Terpenning (1990). The
//! parameter names, their defaults and validation, the inner and outer loops, the robustness
//! weights, the tricube LOESS of degree 0 or 1 and the jump interpolation all match it, so the
//! components agree with statsmodels to rounding error. Positions inside the LOESS routines are
//! 1-based, as in the Fortran, because the weights depend on the position values themselves.

use thiserror::Error;

/// An invalid STL parameter or input series.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum StlError {
    #[error("period must be an integer >= 2, got {0}")]
    InvalidPeriod(usize),
    #[error("seasonal smoother length must be an odd integer >= 3, got {0}")]
    InvalidSeasonal(usize),
    #[error(
        "trend smoother length must be an odd integer >= 3 and greater than the period {period}, got {trend}"
    )]
    InvalidTrend { trend: usize, period: usize },
    #[error(
        "low-pass filter length must be an odd integer >= 3 and greater than the period {period}, got {low_pass}"
    )]
    InvalidLowPass { low_pass: usize, period: usize },
    #[error("{name} degree must be 0 or 1, got {degree}")]
    InvalidDegree { name: &'static str, degree: u8 },
    #[error("{name} jump must be a positive integer, got 0")]
    InvalidJump { name: &'static str },
    #[error("series has {len} values but STL needs at least two full periods ({needed} values)")]
    TooShort { len: usize, needed: usize },
    #[error("series contains a non-finite value at position {0}")]
    NonFinite(usize),
}

/// STL parameters, named as in statsmodels' `STL` and `STL.fit`.
#[derive(Debug, Clone, PartialEq)]
pub struct StlParams {
    /// Number of observations in one seasonal cycle (24 for hourly data with a daily cycle).
    pub period: usize,
    /// Length of the seasonal smoother, odd and >= 3.
    pub seasonal: usize,
    /// Length of the trend smoother. `None` uses the smallest odd integer >=
    /// `1.5 * period / (1 - 1.5 / seasonal)`.
    pub trend: Option<usize>,
    /// Length of the low-pass filter. `None` uses the smallest odd integer > `period`.
    pub low_pass: Option<usize>,
    pub seasonal_deg: u8,
    pub trend_deg: u8,
    pub low_pass_deg: u8,
    /// Whether to run the outer loop that downweights outliers with bisquare weights.
    pub robust: bool,
    pub seasonal_jump: usize,
    pub trend_jump: usize,
    pub low_pass_jump: usize,
    /// Inner-loop iterations. `None` uses 2 when `robust` is set and 5 otherwise.
    pub inner_iter: Option<usize>,
    /// Outer-loop (robustness) iterations. `None` uses 15 when `robust` is set and 0 otherwise.
    pub outer_iter: Option<usize>,
}

impl StlParams {
    /// Returns statsmodels' defaults for the given period: a seasonal smoother of length 7,
    /// degree-1 LOESS everywhere, no robustness and no jumps.
    pub fn new(period: usize) -> Self {
        StlParams {
            period,
            seasonal: 7,
            trend: None,
            low_pass: None,
            seasonal_deg: 1,
            trend_deg: 1,
            low_pass_deg: 1,
            robust: false,
            seasonal_jump: 1,
            trend_jump: 1,
            low_pass_jump: 1,
            inner_iter: None,
            outer_iter: None,
        }
    }

    /// Returns the trend smoother length that will be used, default included.
    pub fn trend_length(&self) -> usize {
        self.trend.unwrap_or_else(|| {
            let length = (1.5 * self.period as f64 / (1.0 - 1.5 / self.seasonal as f64)).ceil();
            let length = length as usize;
            if is_odd(length) { length } else { length + 1 }
        })
    }

    /// Returns the low-pass filter length that will be used, default included.
    pub fn low_pass_length(&self) -> usize {
        self.low_pass.unwrap_or_else(|| {
            let length = self.period + 1;
            if is_odd(length) { length } else { length + 1 }
        })
    }

    fn validate(&self) -> Result<(), StlError> {
        if self.period < 2 {
            return Err(StlError::InvalidPeriod(self.period));
        }
        if self.seasonal < 3 || !is_odd(self.seasonal) {
            return Err(StlError::InvalidSeasonal(self.seasonal));
        }
        let trend = self.trend_length();
        if trend < 3 || !is_odd(trend) || trend <= self.period {
            return Err(StlError::InvalidTrend {
                trend,
                period: self.period,
            });
        }
        let low_pass = self.low_pass_length();
        if low_pass < 3 || !is_odd(low_pass) || low_pass <= self.period {
            return Err(StlError::InvalidLowPass {
                low_pass,
                period: self.period,
            });
        }
        for (name, degree) in [
            ("seasonal", self.seasonal_deg),
            ("trend", self.trend_deg),
            ("low-pass", self.low_pass_deg),
        ] {
            if degree > 1 {
                return Err(StlError::InvalidDegree { name, degree });
            }
        }
        for (name, jump) in [
            ("seasonal", self.seasonal_jump),
            ("trend", self.trend_jump),
            ("low-pass", self.low_pass_jump),
        ] {
            if jump == 0 {
                return Err(StlError::InvalidJump { name });
            }
        }
        Ok(())
    }
}

fn is_odd(value: usize) -> bool {
    value % 2 == 1
}

/// The components of a decomposed series: `observed = seasonal + trend + residual`.
#[derive(Debug, Clone, PartialEq)]
pub struct Decomposition {
    pub seasonal: Vec<f64>,
    pub trend: Vec<f64>,
    pub residual: Vec<f64>,
    /// Robustness weights of the last outer iteration, all 1.0 without robustness.
    pub weights: Vec<f64>,
}

/// Decomposes `y` into seasonal, trend and residual components.
///
/// Rejects series shorter than two periods: statsmodels accepts them, but then some
/// cycle-subseries are empty and the result is meaningless.
pub fn decompose(y: &[f64], params: &StlParams) -> Result<Decomposition, StlError> {
    params.validate()?;
    let needed = 2 * params.period;
    if y.len() < needed {
        return Err(StlError::TooShort {
            len: y.len(),
            needed,
        });
    }
    if let Some(position) = y.iter().position(|value| !value.is_finite()) {
        return Err(StlError::NonFinite(position));
    }

    let mut state = Stl::new(y, params);
    let inner = params
        .inner_iter
        .unwrap_or(if params.robust { 2 } else { 5 });
    let outer = params
        .outer_iter
        .unwrap_or(if params.robust { 15 } else { 0 });
    state.fit(inner, outer);

    let residual = y
        .iter()
        .zip(&state.season)
        .zip(&state.trend)
        .map(|((value, season), trend)| value - season - trend)
        .collect();
    Ok(Decomposition {
        seasonal: state.season,
        trend: state.trend,
        residual,
        weights: state.rw,
    })
}

/// Working state of one fit. The `work*` vectors are the rows of the Fortran work matrix and keep
/// its numbering so that each step can be checked against the reference.
struct Stl<'a> {
    y: &'a [f64],
    n: usize,
    np: usize,
    ns: usize,
    nt: usize,
    nl: usize,
    isdeg: u8,
    itdeg: u8,
    ildeg: u8,
    nsjump: usize,
    ntjump: usize,
    nljump: usize,
    use_rw: bool,
    season: Vec<f64>,
    trend: Vec<f64>,
    rw: Vec<f64>,
    work0: Vec<f64>,
    work1: Vec<f64>,
    work2: Vec<f64>,
    work3: Vec<f64>,
    work4: Vec<f64>,
}

impl<'a> Stl<'a> {
    fn new(y: &'a [f64], params: &StlParams) -> Self {
        let n = y.len();
        let width = n + 2 * params.period;
        Stl {
            y,
            n,
            np: params.period,
            ns: params.seasonal,
            nt: params.trend_length(),
            nl: params.low_pass_length(),
            isdeg: params.seasonal_deg,
            itdeg: params.trend_deg,
            ildeg: params.low_pass_deg,
            nsjump: params.seasonal_jump,
            ntjump: params.trend_jump,
            nljump: params.low_pass_jump,
            use_rw: false,
            season: vec![0.0; n],
            trend: vec![0.0; n],
            rw: vec![1.0; n],
            work0: vec![0.0; width],
            work1: vec![0.0; width],
            work2: vec![0.0; width],
            work3: vec![0.0; width],
            work4: vec![0.0; width],
        }
    }

    fn fit(&mut self, inner_iter: usize, outer_iter: usize) {
        let mut outer_done = 0;
        loop {
            self.one_step(inner_iter);
            outer_done += 1;
            if outer_done > outer_iter {
                break;
            }
            for i in 0..self.n {
                self.work0[i] = self.trend[i] + self.season[i];
            }
            self.robustness_weights();
            self.use_rw = true;
        }
    }

    /// Runs the inner loop: detrend, smooth the cycle-subseries, remove their low-pass part, and
    /// smooth the deseasonalized series into the trend.
    fn one_step(&mut self, inner_iter: usize) {
        let n = self.n;
        let np = self.np;
        for _ in 0..inner_iter {
            for i in 0..n {
                self.work0[i] = self.y[i] - self.trend[i];
            }
            self.seasonal_smooth();
            self.low_pass_filter();
            loess_smooth(
                &self.work2,
                n,
                self.nl,
                self.ildeg,
                self.nljump,
                false,
                &self.work3,
                &mut self.work0,
                &mut self.work4,
            );
            for i in 0..n {
                self.season[i] = self.work1[np + i] - self.work0[i];
                self.work0[i] = self.y[i] - self.season[i];
            }
            loess_smooth(
                &self.work0,
                n,
                self.nt,
                self.itdeg,
                self.ntjump,
                self.use_rw,
                &self.rw,
                &mut self.trend,
                &mut self.work2,
            );
        }
    }

    /// Smooths each cycle-subseries of `work0` and extends it by one value at each end, writing
    /// the result, `n + 2 * np` values long, to `work1`.
    fn seasonal_smooth(&mut self) {
        let n = self.n;
        let np = self.np;
        let ns = self.ns;
        for j in 0..np {
            let k = (n - (j + 1)) / np + 1;
            for i in 0..k {
                self.work2[i] = self.work0[i * np + j];
            }
            if self.use_rw {
                for i in 0..k {
                    self.work4[i] = self.rw[i * np + j];
                }
            }

            let (first, rest) = self.work3.split_at_mut(1);
            loess_smooth(
                &self.work2,
                k,
                ns,
                self.isdeg,
                self.nsjump,
                self.use_rw,
                &self.work4,
                rest,
                &mut self.season,
            );
            let nright = ns.min(k) as i64;
            first[0] = loess_estimate(
                &self.work2,
                k,
                ns,
                self.isdeg,
                0,
                1,
                nright,
                &mut self.season,
                self.use_rw,
                &self.work4,
            )
            .unwrap_or(rest[0]);
            let nleft = (k as i64 - ns as i64 + 1).max(1);
            self.work3[k + 1] = loess_estimate(
                &self.work2,
                k,
                ns,
                self.isdeg,
                k as i64 + 1,
                nleft,
                k as i64,
                &mut self.season,
                self.use_rw,
                &self.work4,
            )
            .unwrap_or(self.work3[k]);

            for m in 0..k + 2 {
                self.work1[m * np + j] = self.work3[m];
            }
        }
    }

    /// Applies the low-pass filter (moving averages of length np, np and 3) to `work1`, writing
    /// `n` values to `work2`.
    fn low_pass_filter(&mut self) {
        let width = self.n + 2 * self.np;
        let np = self.np;
        moving_average(&self.work1, width, np, &mut self.work2);
        moving_average(&self.work2, width - np + 1, np, &mut self.work0);
        moving_average(&self.work0, width - 2 * np + 2, 3, &mut self.work2);
    }

    /// Computes bisquare robustness weights from the residuals of the fit in `work0`, with six
    /// times the median absolute residual as the scale.
    fn robustness_weights(&mut self) {
        let n = self.n;
        for i in 0..n {
            self.rw[i] = (self.y[i] - self.work0[i]).abs();
        }
        let mut sorted = self.rw.clone();
        sorted.sort_by(f64::total_cmp);
        let mid0 = n / 2;
        let mid1 = n - mid0 - 1;
        let cmad = 3.0 * (sorted[mid0] + sorted[mid1]);
        if cmad == 0.0 {
            self.rw.fill(1.0);
            return;
        }
        let c9 = 0.999 * cmad;
        let c1 = 0.001 * cmad;
        for weight in &mut self.rw {
            let residual = *weight;
            *weight = if residual <= c1 {
                1.0
            } else if residual <= c9 {
                let ratio = residual / cmad;
                (1.0 - ratio * ratio).powi(2)
            } else {
                0.0
            };
        }
    }
}

/// Moving average of length `len` over the first `n` values of `x`, writing `n - len + 1`
/// values to `ave`.
fn moving_average(x: &[f64], n: usize, len: usize, ave: &mut [f64]) {
    let count = n - len + 1;
    let flen = len as f64;
    let mut sum: f64 = x[..len].iter().sum();
    ave[0] = sum / flen;
    for j in 1..count {
        sum += x[len + j - 1] - x[j - 1];
        ave[j] = sum / flen;
    }
}

/// Fits a local polynomial of degree `ideg` with tricube weights over positions
/// `nleft..=nright` (1-based) and evaluates it at position `xs`. `w` is scratch space for the
/// weights. Returns `None` when all weights are zero.
#[allow(clippy::too_many_arguments)]
fn loess_estimate(
    y: &[f64],
    n: usize,
    len: usize,
    ideg: u8,
    xs: i64,
    nleft: i64,
    nright: i64,
    w: &mut [f64],
    userw: bool,
    rw: &[f64],
) -> Option<f64> {
    let range = n as f64 - 1.0;
    let mut h = (xs - nleft).max(nright - xs) as f64;
    if len > n {
        h += ((len - n) / 2) as f64;
    }
    let h9 = 0.999 * h;
    let h1 = 0.001 * h;

    let lo = (nleft - 1) as usize;
    let hi = nright as usize;
    let mut total = 0.0;
    for j in lo..hi {
        w[j] = 0.0;
        let r = (j as i64 + 1 - xs).abs() as f64;
        if r <= h9 {
            w[j] = if r <= h1 {
                1.0
            } else {
                let ratio = r / h;
                (1.0 - ratio * ratio * ratio).powi(3)
            };
            if userw {
                w[j] *= rw[j];
            }
            total += w[j];
        }
    }
    if total <= 0.0 {
        return None;
    }
    for weight in &mut w[lo..hi] {
        *weight /= total;
    }

    if h > 0.0 && ideg > 0 {
        let mut center = 0.0;
        for (j, weight) in w[lo..hi].iter().enumerate() {
            center += weight * (lo + j + 1) as f64;
        }
        let mut slope = xs as f64 - center;
        let mut spread = 0.0;
        for (j, weight) in w[lo..hi].iter().enumerate() {
            let offset = (lo + j + 1) as f64 - center;
            spread += weight * offset * offset;
        }
        if spread.sqrt() > 0.001 * range {
            slope /= spread;
            for (j, weight) in w[lo..hi].iter_mut().enumerate() {
                *weight *= slope * ((lo + j + 1) as f64 - center) + 1.0;
            }
        }
    }

    let mut estimate = 0.0;
    for j in lo..hi {
        estimate += w[j] * y[j];
    }
    Some(estimate)
}

/// LOESS-smooths the first `n` values of `y` into `ys` with window `len`, evaluating every
/// `njump`-th position and interpolating linearly in between. `res` is scratch space.
#[allow(clippy::too_many_arguments)]
fn loess_smooth(
    y: &[f64],
    n: usize,
    len: usize,
    ideg: u8,
    njump: usize,
    userw: bool,
    rw: &[f64],
    ys: &mut [f64],
    res: &mut [f64],
) {
    if n < 2 {
        ys[0] = y[0];
        return;
    }
    let newnj = njump.min(n - 1);
    let n_i = n as i64;
    let len_i = len as i64;
    let estimate_at = |ys: &mut [f64], res: &mut [f64], i: usize, nleft: i64, nright: i64| {
        ys[i] = loess_estimate(y, n, len, ideg, i as i64 + 1, nleft, nright, res, userw, rw)
            .unwrap_or(y[i]);
    };

    // The window of the last evaluated position, reused below for the final point, as the
    // reference does.
    let mut nleft: i64 = 1;
    let mut nright: i64 = n_i;
    if len >= n {
        let mut i = 0;
        while i < n {
            estimate_at(ys, res, i, nleft, nright);
            i += newnj;
        }
    } else if newnj == 1 {
        let nsh = (len_i + 2) / 2;
        nright = len_i;
        // Without robustness weights, every window whose centre sits `nsh - 1` positions from
        // its left end has the same weights, so they are computed once and reused. This only
        // changes rounding: the reference recomputes them from absolute positions.
        let mut kernel: Vec<f64> = Vec::new();
        for i in 0..n {
            if i as i64 + 1 > nsh && nright != n_i {
                nleft += 1;
                nright += 1;
            }
            let centred = i as i64 + 1 - nleft == nsh - 1;
            if userw || !centred {
                estimate_at(ys, res, i, nleft, nright);
                continue;
            }
            let lo = (nleft - 1) as usize;
            let hi = nright as usize;
            if kernel.is_empty() {
                estimate_at(ys, res, i, nleft, nright);
                kernel.extend_from_slice(&res[lo..hi]);
                continue;
            }
            ys[i] = kernel
                .iter()
                .zip(&y[lo..hi])
                .map(|(w, value)| w * value)
                .sum();
        }
    } else {
        let nsh = (len_i + 1) / 2;
        let mut i = 0;
        while i < n {
            let position = i as i64 + 1;
            if position < nsh {
                nleft = 1;
                nright = len_i;
            } else if position > n_i - nsh {
                nleft = n_i - len_i + 1;
                nright = n_i;
            } else {
                nleft = position - nsh + 1;
                nright = len_i + position - nsh;
            }
            estimate_at(ys, res, i, nleft, nright);
            i += newnj;
        }
    }
    if newnj == 1 {
        return;
    }

    let mut i = 0;
    while i < n - newnj {
        let delta = (ys[i + newnj] - ys[i]) / newnj as f64;
        for j in i..i + newnj {
            ys[j] = ys[i] + delta * (j - i) as f64;
        }
        i += newnj;
    }
    let k = ((n - 1) / newnj) * newnj + 1;
    if k != n {
        estimate_at(ys, res, n - 1, nleft, nright);
        if k != n - 1 {
            let delta = (ys[n - 1] - ys[k - 1]) / (n - k) as f64;
            for j in k..n {
                ys[j] = ys[k - 1] + delta * (j + 1 - k) as f64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synthetic(n: usize, period: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let phase = 2.0 * std::f64::consts::PI * (i % period) as f64 / period as f64;
                100.0 + 0.5 * i as f64 + 10.0 * phase.sin()
            })
            .collect()
    }

    #[test]
    fn default_lengths_follow_statsmodels() {
        let params = StlParams::new(24);
        // ceil(1.5 * 24 / (1 - 1.5 / 7)) = ceil(45.82) = 46, made odd.
        assert_eq!(params.trend_length(), 47);
        assert_eq!(params.low_pass_length(), 25);
        assert_eq!(StlParams::new(12).low_pass_length(), 13);
    }

    #[test]
    fn components_add_up_to_series() {
        let y = synthetic(240, 24);
        let result = decompose(&y, &StlParams::new(24)).unwrap();
        for (i, value) in y.iter().enumerate() {
            let sum = result.seasonal[i] + result.trend[i] + result.residual[i];
            assert!((sum - value).abs() < 1e-9, "position {i}: {sum} != {value}");
        }
        assert!(result.weights.iter().all(|&weight| weight == 1.0));
    }

    #[test]
    fn clean_seasonal_series_leaves_small_residual() {
        let y = synthetic(480, 24);
        let result = decompose(&y, &StlParams::new(24)).unwrap();
        let max_residual = result
            .residual
            .iter()
            .fold(0.0f64, |max, r| max.max(r.abs()));
        assert!(max_residual < 0.5, "max residual {max_residual}");
    }

    #[test]
    fn jumps_stay_close_to_full_fit() {
        let y = synthetic(240, 24);
        let full = decompose(&y, &StlParams::new(24)).unwrap();
        let mut params = StlParams::new(24);
        params.seasonal_jump = 2;
        params.trend_jump = 5;
        params.low_pass_jump = 3;
        let jumped = decompose(&y, &params).unwrap();
        for i in 0..y.len() {
            assert!(
                (full.trend[i] - jumped.trend[i]).abs() < 1.0,
                "trend at {i}"
            );
        }
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        let y = synthetic(100, 24);
        assert_eq!(
            decompose(&y, &StlParams::new(1)),
            Err(StlError::InvalidPeriod(1))
        );

        let mut params = StlParams::new(24);
        params.seasonal = 8;
        assert_eq!(decompose(&y, &params), Err(StlError::InvalidSeasonal(8)));

        let mut params = StlParams::new(24);
        params.trend = Some(23);
        assert_eq!(
            decompose(&y, &params),
            Err(StlError::InvalidTrend {
                trend: 23,
                period: 24
            })
        );

        assert_eq!(
            decompose(&y[..40], &StlParams::new(24)),
            Err(StlError::TooShort {
                len: 40,
                needed: 48
            })
        );

        let mut with_nan = y.clone();
        with_nan[7] = f64::NAN;
        assert_eq!(
            decompose(&with_nan, &StlParams::new(24)),
            Err(StlError::NonFinite(7))
        );
    }
}
