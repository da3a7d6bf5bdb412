//! Colours, fonts and label spelling shared by the plots.

use plotters::style::{FontDesc, FontTransform, IntoFont, RGBColor, TextStyle};

/// Minor grid lines: barely there, the data carries the plot.
pub const GRID_MINOR: RGBColor = RGBColor(246, 246, 246);
/// Measured counts.
pub const MEASURED: RGBColor = RGBColor(30, 30, 30);
/// Fitted background / continuum.
pub const BACKGROUND: RGBColor = RGBColor(31, 119, 180);
/// Total fitted model.
pub const MODEL: RGBColor = RGBColor(214, 39, 40);
/// Lines of ordinary (non rare-earth) elements.
pub const ELEMENT: RGBColor = RGBColor(0, 110, 110);
/// Lines of rare-earth elements: the colour of the evidence.
pub const RARE_EARTH: RGBColor = RGBColor(190, 0, 150);
/// Artefacts (escape, pile-up, scatter).
pub const ARTEFACT: RGBColor = RGBColor(120, 120, 120);
/// Detection limits of elements not found.
pub const NOT_DETECTED: RGBColor = RGBColor(150, 110, 0);

/// Phase colours (Tableau 10, the matplotlib default cycle).
pub const PHASES: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Verdict banner colours: CLEAR, INSPECT, HOLD, ERROR.
pub fn verdict_colour(v: crate::screen::Verdict) -> RGBColor {
    use crate::screen::Verdict;
    match v {
        Verdict::Clear => RGBColor(30, 130, 60),
        Verdict::Inspect => RGBColor(205, 130, 0),
        Verdict::Hold => RGBColor(190, 20, 30),
        Verdict::Error => RGBColor(90, 90, 90),
    }
}

/// The plot font at `size` px.
pub fn font(size: f64) -> FontDesc<'static> {
    (super::super::font::FAMILY, size).into_font()
}

/// Text in `colour` at `size` px.
pub fn text(size: f64, colour: RGBColor) -> TextStyle<'static> {
    font(size).color(&colour)
}

/// Text rotated to read bottom-to-top (for labels standing on a line marker).
pub fn vertical_text(size: f64, colour: RGBColor) -> TextStyle<'static> {
    font(size)
        .transform(FontTransform::Rotate270)
        .color(&colour)
}

/// Siegbahn line label with Greek letters: "Ka1" → "Kα1", "Lb2,15" → "Lβ2,15".
pub fn greek_line(label: &str) -> String {
    let mut chars = label.chars();
    let Some(shell) = chars.next() else {
        return String::new();
    };
    let rest: String = chars.collect();
    let greek = match rest.chars().next() {
        Some('a') => Some('α'),
        Some('b') => Some('β'),
        Some('g') => Some('γ'),
        Some('l') => Some('ℓ'),
        Some('n') => Some('η'),
        _ => None,
    };
    match greek {
        Some(g) => format!("{shell}{g}{}", &rest[1..]),
        None => label.to_string(),
    }
}

/// "Fe Ka+Fe Kb" → "Fe Kα+Fe Kβ": Greek letters in a peak/parent label.
pub fn greek_peak(label: &str) -> String {
    label
        .split('+')
        .map(|part| {
            let mut words: Vec<String> = part.split(' ').map(str::to_string).collect();
            if let Some(last) = words.last_mut() {
                if last.starts_with(['K', 'L', 'M']) && last.len() > 1 {
                    *last = greek_line(last);
                }
            }
            words.join(" ")
        })
        .collect::<Vec<_>>()
        .join("+")
}

/// What an artefact is, spelled for an officer: "Si escape of Fe Kα".
pub fn artefact_label(kind: &str, parent: &str) -> String {
    let parent = greek_peak(parent);
    match kind {
        "escape" => format!("escape of {parent}"),
        "pileup" | "pile-up" | "sum" => format!("pile-up {parent}"),
        "rayleigh" => format!("{parent} Rayleigh"),
        "compton" => format!("{parent} Compton"),
        "instrument" => format!("instrument {parent}"),
        "air" => parent,
        other => format!("{other} {parent}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siegbahn_labels_get_greek_letters() {
        assert_eq!(greek_line("Ka1"), "Kα1");
        assert_eq!(greek_line("Lb2,15"), "Lβ2,15");
        assert_eq!(greek_line("Lg1"), "Lγ1");
        assert_eq!(greek_line("Ma"), "Mα");
        assert_eq!(greek_line("K"), "K");
        assert_eq!(greek_peak("Fe Ka+Fe Kb"), "Fe Kα+Fe Kβ");
    }

    #[test]
    fn artefacts_are_named_as_artefacts() {
        assert_eq!(artefact_label("escape", "Fe Ka"), "escape of Fe Kα");
        assert_eq!(
            artefact_label("air", "Ar in the air path"),
            "Ar in the air path"
        );
        assert_eq!(
            artefact_label("pileup", "Fe Ka+Fe Ka"),
            "pile-up Fe Kα+Fe Kα"
        );
        assert_eq!(artefact_label("compton", "Rh Ka"), "Rh Kα Compton");
    }
}
