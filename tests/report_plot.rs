//! Plots: PNG of the requested size with a drawn (non-blank) plot area; SVG that parses
//! as XML and carries the element, artefact and phase labels.

mod report_fixtures;

use quick_xml::events::Event;
use reescan::report::plot::{
    png_bytes, render_screening, render_xrd, render_xrf, PlotOptions, XrfFigure,
};
use report_fixtures::*;

struct Image {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Image {
    fn decode(bytes: &[u8]) -> Image {
        let decoder = png::Decoder::new(bytes);
        let mut reader = decoder.read_info().expect("PNG header");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("PNG data");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        Image {
            width: info.width,
            height: info.height,
            rgb: buf,
        }
    }

    fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = 3 * (y as usize * self.width as usize + x as usize);
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Fraction of non-white pixels in the box (fractions of width/height).
    fn ink(&self, x: (f64, f64), y: (f64, f64)) -> f64 {
        let (x0, x1) = (
            (x.0 * self.width as f64) as u32,
            (x.1 * self.width as f64) as u32,
        );
        let (y0, y1) = (
            (y.0 * self.height as f64) as u32,
            (y.1 * self.height as f64) as u32,
        );
        let mut ink = 0usize;
        for yy in y0..y1 {
            for xx in x0..x1 {
                if self.pixel(xx, yy) != [255, 255, 255] {
                    ink += 1;
                }
            }
        }
        ink as f64 / ((x1 - x0) as f64 * (y1 - y0) as f64)
    }

    /// Pixels close to `rgb` (each channel within 40).
    fn count_near(&self, rgb: [u8; 3]) -> usize {
        self.rgb
            .chunks_exact(3)
            .filter(|p| {
                p.iter()
                    .zip(rgb)
                    .all(|(&a, b)| (a as i32 - b as i32).abs() <= 40)
            })
            .count()
    }
}

/// All text content of an SVG document, checking on the way that it is well-formed XML.
fn svg_texts(svg: &str) -> String {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut texts = String::new();
    let mut depth = 0i32;
    loop {
        match reader.read_event().expect("well-formed SVG") {
            Event::Start(_) => depth += 1,
            Event::End(_) => {
                depth -= 1;
                texts.push('\n');
            }
            Event::Text(t) => texts.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let name = r.into_inner();
                texts.push_str(match name.as_ref() {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "quot" => "\"",
                    _ => "'",
                });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "every SVG element is closed");
    texts
}

#[test]
fn xrf_png_has_the_requested_size_and_a_drawn_plot_area() {
    let a = xrf_iron_ore_with_nd(4096);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("xrf.png");
    render_xrf(&a, &PlotOptions::sized(1000, 640), &out).unwrap();
    let img = Image::decode(&std::fs::read(&out).unwrap());
    assert_eq!((img.width, img.height), (1000, 640));
    let ink = img.ink((0.1, 0.95), (0.1, 0.7));
    assert!(ink > 0.03 && ink < 0.8, "plot area ink fraction {ink}");
    assert!(
        img.count_near([214, 39, 40]) > 200,
        "fit model (red) is drawn"
    );
    assert!(
        img.count_near([190, 0, 150]) > 50,
        "rare-earth lines (magenta) are drawn"
    );
    assert!(
        img.ink((0.1, 0.95), (0.78, 0.95)) > 0.01,
        "residual panel is drawn"
    );
}

#[test]
fn png_size_follows_the_options_exactly() {
    let a = xrf_iron_ore_with_nd(1024);
    for (w, h) in [(640, 420), (1601, 901)] {
        let bytes = png_bytes(&XrfFigure::new(&a, None), &PlotOptions::sized(w, h)).unwrap();
        let img = Image::decode(&bytes);
        assert_eq!((img.width, img.height), (w, h));
    }
}

#[test]
fn xrf_svg_is_xml_with_element_artefact_and_detection_limit_labels() {
    let a = xrf_iron_ore_with_nd(4096);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("xrf.svg");
    render_xrf(&a, &PlotOptions::default(), &out).unwrap();
    let svg = std::fs::read_to_string(&out).unwrap();
    let texts = svg_texts(&svg);
    for label in [
        "Fe Kα1",
        "Nd Lα1",
        "Pr Lα1",
        "escape of Fe Kα",
        "pile-up Fe Kα+Fe Kα",
    ] {
        assert!(texts.contains(label), "missing label {label:?} in\n{texts}");
    }
    assert!(texts.contains("Rh Kα Compton"), "{texts}");
    assert!(
        texts.contains("Dy < 0.080 %"),
        "detection limit of absent Dy: {texts}"
    );
    assert!(
        texts.contains("χ²/ν = 1.27"),
        "fit named in the title: {texts}"
    );
}

#[test]
fn xrd_svg_has_phase_legend_with_wt_pct_and_png_is_drawn() {
    let a = xrd_hematite_with_ceria();
    let dir = tempfile::tempdir().unwrap();
    let svg_path = dir.path().join("xrd.svg");
    render_xrd(&a, &PlotOptions::default(), &svg_path).unwrap();
    let texts = svg_texts(&std::fs::read_to_string(&svg_path).unwrap());
    assert!(texts.contains("hematite 88.0 wt %"), "{texts}");
    assert!(texts.contains("cerianite 12.0 wt %"), "{texts}");
    assert!(texts.contains("2θ (degrees)"), "{texts}");

    let png_path = dir.path().join("xrd.png");
    render_xrd(&a, &PlotOptions::sized(900, 700), &png_path).unwrap();
    let img = Image::decode(&std::fs::read(&png_path).unwrap());
    assert_eq!((img.width, img.height), (900, 700));
    assert!(img.ink((0.1, 0.95), (0.1, 0.5)) > 0.02);
    assert!(
        img.count_near([255, 127, 14]) > 30,
        "second phase's sticks (orange) drawn"
    );
}

#[test]
fn screening_plot_shows_verdict_banner_and_both_techniques() {
    let r = screening_hold();
    let dir = tempfile::tempdir().unwrap();
    let svg_path = dir.path().join("s.svg");
    render_screening(&r, &PlotOptions::sized(1200, 1100), &svg_path).unwrap();
    let texts = svg_texts(&std::fs::read_to_string(&svg_path).unwrap());
    assert!(
        texts.contains("S0042 · declared iron-ore · HOLD"),
        "{texts}"
    );
    assert!(
        texts.contains("Nd Lα1") && texts.contains("cerianite"),
        "{texts}"
    );

    let png_path = dir.path().join("s.png");
    render_screening(&r, &PlotOptions::sized(1200, 1100), &png_path).unwrap();
    let img = Image::decode(&std::fs::read(&png_path).unwrap());
    assert_eq!(img.pixel(3, 3), [190, 20, 30], "HOLD banner is red");
}

#[test]
fn unsupported_extension_and_empty_curves_are_errors_or_messages_not_panics() {
    let mut a = xrf_iron_ore_with_nd(512);
    let dir = tempfile::tempdir().unwrap();
    assert!(render_xrf(&a, &PlotOptions::default(), &dir.path().join("x.jpg")).is_err());
    a.curves = Default::default();
    let out = dir.path().join("empty.svg");
    render_xrf(&a, &PlotOptions::default(), &out).unwrap();
    let texts = svg_texts(&std::fs::read_to_string(&out).unwrap());
    assert!(texts.contains("no XRF fit curves"), "{texts}");
}

#[test]
fn file_names_with_markup_are_escaped_in_svg() {
    let mut a = xrf_iron_ore_with_nd(512);
    a.file = "evil<script>&.msa".into();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("e.svg");
    render_xrf(&a, &PlotOptions::default(), &out).unwrap();
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(!svg.contains("<script>"));
    assert!(svg_texts(&svg).contains("evil<script>&.msa"));
}

/// With `REESCAN_PLOT_PREVIEW=DIR`, write the fixture plots there to look at them.
#[test]
fn writes_preview_plots_when_asked() {
    let Some(dir) = std::env::var_os("REESCAN_PLOT_PREVIEW") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let opts = PlotOptions::default();
    render_xrf(&xrf_iron_ore_with_nd(4096), &opts, &dir.join("xrf.png")).unwrap();
    render_xrd(&xrd_hematite_with_ceria(), &opts, &dir.join("xrd.png")).unwrap();
    let tall = PlotOptions::sized(1200, 1300);
    render_screening(&screening_hold(), &tall, &dir.join("screening.png")).unwrap();
    render_screening(&screening_hold(), &tall, &dir.join("screening.svg")).unwrap();
}
