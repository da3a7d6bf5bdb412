//! Allocation-free number scanning for text spectra.
//!
//! Counts files are mostly short decimals ("1234", "0.5", "17."), so
//! [`parse_f64`] takes Clinger's exact fast path — a mantissa of at most 2⁵³
//! scaled by an exactly representable power of ten is correctly rounded by one
//! IEEE multiplication or division (W. D. Clinger, "How to read floating point
//! numbers accurately", PLDI 1990) — and falls back to the standard library's
//! correctly rounded parser for everything else (long mantissas, large
//! exponents, `nan`, `inf`). Results are therefore identical to `str::parse`.

/// Exactly representable powers of ten (10²² is the largest below 2⁵³·2^k
/// that is exact in binary64).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parse one decimal number (`[+-]digits[.digits][(e|E)[+-]digits]`, or what
/// `str::parse::<f64>` accepts). `None` when the token is not a number.
pub fn parse_f64(token: &[u8]) -> Option<f64> {
    fast_path(token).or_else(|| std::str::from_utf8(token).ok()?.parse().ok())
}

fn fast_path(t: &[u8]) -> Option<f64> {
    let n = t.len();
    let (negative, mut i) = match t.first()? {
        b'-' => (true, 1),
        b'+' => (false, 1),
        _ => (false, 0),
    };
    let mut mantissa: u64 = 0;
    let int_start = i;
    while i < n {
        let d = t[i].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    let mut digits = i - int_start;
    let mut exponent: i64 = 0;
    if i < n && t[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < n {
            let d = t[i].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
            i += 1;
        }
        digits += i - frac_start;
        exponent = -((i - frac_start) as i64);
    }
    // More than 19 digits may have wrapped: leave those to the exact parser.
    if digits == 0 || digits > 19 {
        return None;
    }
    if i < n && (t[i] | 0x20) == b'e' {
        i += 1;
        let sign = match t.get(i) {
            Some(b'-') => {
                i += 1;
                -1
            }
            Some(b'+') => {
                i += 1;
                1
            }
            _ => 1,
        };
        let start = i;
        let mut e: i64 = 0;
        while i < n && t[i].is_ascii_digit() {
            e = (e * 10 + i64::from(t[i] - b'0')).min(100_000);
            i += 1;
        }
        if i == start {
            return None;
        }
        exponent += sign * e;
    }
    if i != n || mantissa > (1u64 << 53) {
        return None;
    }
    let m = mantissa as f64;
    let value = match exponent {
        0..=22 => m * POW10[exponent as usize],
        -22..=-1 => m / POW10[(-exponent) as usize],
        _ => return None,
    };
    Some(if negative { -value } else { value })
}

/// Separator table for [`is_separator`].
const SEPARATOR: [bool; 256] = {
    let mut t = [false; 256];
    t[b' ' as usize] = true;
    t[b'\t' as usize] = true;
    t[b',' as usize] = true;
    t[b';' as usize] = true;
    t[b'\r' as usize] = true;
    t[b'\n' as usize] = true;
    t
};

/// True for bytes that separate numbers in text spectra.
#[inline]
pub fn is_separator(b: u8) -> bool {
    SEPARATOR[usize::from(b)]
}

/// Split `data` into tokens separated by [`is_separator`] bytes, calling
/// `f(token, line)` for each (1-based `line` counted from `first_line`).
/// Stops at the first error `f` returns.
pub fn for_each_token<'a, E>(
    data: &'a [u8],
    first_line: usize,
    mut f: impl FnMut(&'a [u8], usize) -> Result<(), E>,
) -> Result<(), E> {
    let mut line = first_line;
    let mut i = 0;
    let n = data.len();
    while i < n {
        let b = data[i];
        if is_separator(b) {
            if b == b'\n' {
                line += 1;
            }
            i += 1;
            continue;
        }
        let start = i;
        while i < n && !is_separator(data[i]) {
            i += 1;
        }
        f(&data[start..i], line)?;
    }
    Ok(())
}

/// Split `data` into tokens as [`for_each_token`] does, stopping at the first token
/// that starts with `stop` (e.g. `#` of `#ENDOFDATA`; its byte offset is returned),
/// parsing each token as it is scanned: `f(value, token, line)` gets [`parse_f64`]'s
/// result. A token of at most 15 plain digits (the counts of most spectra, exact below
/// 10¹⁵ < 2⁵³) is converted while its bytes are read, without a second pass; anything
/// else goes to [`parse_f64`]. Same values as splitting first and calling
/// [`parse_f64`] on each token.
pub fn for_each_number_until<'a, E>(
    data: &'a [u8],
    first_line: usize,
    stop: u8,
    mut f: impl FnMut(Option<f64>, &'a [u8], usize) -> Result<(), E>,
) -> Result<Option<usize>, E> {
    let mut line = first_line;
    let mut i = 0;
    let n = data.len();
    while i < n {
        let b = data[i];
        if is_separator(b) {
            line += usize::from(b == b'\n');
            i += 1;
            continue;
        }
        if b == stop {
            return Ok(Some(i));
        }
        let start = i;
        let mut mantissa: u64 = 0;
        let mut plain = true;
        while i < n {
            let c = data[i];
            let d = c.wrapping_sub(b'0');
            if d <= 9 {
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
            } else if is_separator(c) {
                break;
            } else {
                plain = false;
            }
            i += 1;
        }
        let token = &data[start..i];
        let value = if plain && token.len() <= 15 {
            Some(mantissa as f64)
        } else {
            parse_f64(token)
        };
        f(value, token, line)?;
    }
    Ok(None)
}

/// Lossy, printable rendering of a token for error messages (at most 24 chars).
pub fn show(token: &[u8]) -> String {
    let s = String::from_utf8_lossy(token);
    let mut out: String = s.chars().take(24).collect();
    if s.chars().count() > 24 {
        out.push('…');
    }
    out.escape_debug().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_std_parse_on_typical_and_edge_tokens() {
        for t in [
            "0",
            "17",
            "17.",
            "0.5",
            "-0.492773",
            "1.3E-2",
            "9.999E-3",
            "4.5E-1",
            "+3",
            "1e22",
            "1e23",
            "123456789012345678901234",
            "0.1",
            "2.2250738585072014e-308",
            "1e-400",
            "65.820",
            "3.8E2",
            ".5",
            "5.",
        ] {
            let ours = parse_f64(t.as_bytes()).unwrap();
            let std: f64 = t.parse().unwrap();
            assert_eq!(ours.to_bits(), std.to_bits(), "{t}");
        }
    }

    #[test]
    fn rejects_non_numbers_and_keeps_nan_inf_visible() {
        for t in ["", "-", ".", "e5", "1e", "1.2.3", "abc", "1,5", "0x10"] {
            assert!(parse_f64(t.as_bytes()).is_none(), "{t}");
        }
        assert!(parse_f64(b"NaN").unwrap().is_nan());
        assert!(parse_f64(b"-inf").unwrap().is_infinite());
    }

    #[test]
    fn fused_scan_gives_the_values_of_token_then_parse() {
        let data = b"0, 17\n17. 0.5;-3\t1e3\r\n123456789012345 1234567890123456 12345678901234567890123 abc\n";
        let mut fused = Vec::new();
        let end = for_each_number_until::<()>(data, 1, b'#', |v, t, l| {
            fused.push((v.map(f64::to_bits), t.to_vec(), l));
            Ok(())
        })
        .unwrap();
        let mut two_pass = Vec::new();
        for_each_token::<()>(data, 1, |t, l| {
            two_pass.push((parse_f64(t).map(f64::to_bits), t.to_vec(), l));
            Ok(())
        })
        .unwrap();
        assert_eq!(fused, two_pass);
        assert_eq!(end, None);
        assert_eq!(fused.len(), 10);
        assert_eq!(fused[9].0, None);
        assert_eq!(fused[9].2, 3);
        // a token starting with the stop byte ends the scan; its offset is returned
        let mut seen = Vec::new();
        let end = for_each_number_until::<()>(b"1 2\n#END 3", 1, b'#', |v, _, _| {
            seen.push(v);
            Ok(())
        })
        .unwrap();
        assert_eq!((seen, end), (vec![Some(1.0), Some(2.0)], Some(4)));
    }

    #[test]
    fn tokens_track_lines() {
        let mut seen = Vec::new();
        for_each_token::<()>(b"1, 2\n3\t4;\r\n\n5", 10, |t, l| {
            seen.push((parse_f64(t).unwrap(), l));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            seen,
            vec![(1.0, 10), (2.0, 10), (3.0, 11), (4.0, 11), (5.0, 13)]
        );
    }
}
