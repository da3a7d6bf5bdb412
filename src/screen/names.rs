//! Words an officer reads aloud: element names and number formatting.

/// English name of an element symbol (falls back to the symbol).
pub fn element_name(symbol: &str) -> &str {
    match symbol {
        "Al" => "aluminium",
        "Si" => "silicon",
        "P" => "phosphorus",
        "K" => "potassium",
        "Ca" => "calcium",
        "Ti" => "titanium",
        "Cr" => "chromium",
        "Mn" => "manganese",
        "Fe" => "iron",
        "Co" => "cobalt",
        "Ni" => "nickel",
        "Cu" => "copper",
        "Zn" => "zinc",
        "Sr" => "strontium",
        "Zr" => "zirconium",
        "Hf" => "hafnium",
        "Nb" => "niobium",
        "Ba" => "barium",
        "Th" => "thorium",
        "U" => "uranium",
        "Sc" => "scandium",
        "Y" => "yttrium",
        "La" => "lanthanum",
        "Ce" => "cerium",
        "Pr" => "praseodymium",
        "Nd" => "neodymium",
        "Pm" => "promethium",
        "Sm" => "samarium",
        "Eu" => "europium",
        "Gd" => "gadolinium",
        "Tb" => "terbium",
        "Dy" => "dysprosium",
        "Ho" => "holmium",
        "Er" => "erbium",
        "Tm" => "thulium",
        "Yb" => "ytterbium",
        "Lu" => "lutetium",
        other => other,
    }
}

/// Capitalise the first letter ("iron" → "Iron").
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A wt % figure with sensible precision: 2 significant decimals below 1, else 2 places.
pub fn pct(v: f64) -> String {
    // a sum over nothing is −0.0, and a reading rounded to zero is no negative amount
    let v = if v.abs() < 5e-4 { 0.0 } else { v };
    if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else if v.abs() >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// "a, b and c".
pub fn join_and(items: &[String]) -> String {
    join_with(items, "and")
}

/// "a, b or c".
pub fn join_or(items: &[String]) -> String {
    join_with(items, "or")
}

fn join_with(items: &[String], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {word} {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_naturally() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(join_and(&v(&["a"])), "a");
        assert_eq!(join_and(&v(&["a", "b", "c"])), "a, b and c");
        assert_eq!(join_or(&v(&["a", "b"])), "a or b");
        assert_eq!(capitalise(element_name("Nd")), "Neodymium");
        assert_eq!(pct(0.0512), "0.051");
        assert_eq!(pct(1.234), "1.23");
        assert_eq!(pct([0.0f64; 0].iter().sum()), "0.000");
        assert_eq!(pct(-0.0002), "0.000");
        assert_eq!(pct(-0.0512), "-0.051");
    }
}
