//! PANalytical/Malvern `.xrdml` (XML, schemas 1.x–2.x). The 2θ positions and
//! counts (with `beamAttenuationFactors` applied, `<intensities>` or
//! `<counts>`) come from the `geddes` crate; this module reads with quick-xml
//! what `geddes` does not return: `usedWavelength` (`kAlpha1`, `kAlpha2`,
//! `ratioKAlpha2KAlpha1`), the tube (`tension` kV, `current` mA,
//! `anodeMaterial`), sample name, detector and start time.

use super::xml;
use super::{ReadOptions, CU_KA1_A};
use crate::{Axis, Error, Metadata, Result, Spectrum};
use ndarray::Array1;

/// Format name used in errors and metadata.
pub const NAME: &str = "PANalytical XRDML";

/// Read an XRDML file.
pub fn read(bytes: &[u8], opts: &ReadOptions) -> Result<Spectrum> {
    let root = xml::parse(bytes, NAME)?;
    let pattern =
        geddes::read_bytes(bytes, "scan.xrdml").map_err(|e| Error::parse(NAME, e.to_string()))?;
    if pattern.x.len() > super::LIMITS.max_channels {
        return Err(super::too_many_channels(pattern.x.len()));
    }
    let used = root.find("usedWavelength");
    let stated_ka1 = used
        .and_then(|u| u.find_number("kAlpha1"))
        .filter(|v| *v > 0.05 && *v < 10.0);
    let ka2 = used.and_then(|u| u.find_number("kAlpha2"));
    let ratio = used.and_then(|u| u.find_number("ratioKAlpha2KAlpha1"));
    let tube = root.find("xRayTube");
    let meta = Metadata {
        title: root
            .find("sample")
            .and_then(|s| s.find_text("name").or(s.find_text("id")))
            .map(str::to_string),
        tube_kv: tube.and_then(|t| t.find_number("tension")),
        tube_ua: tube
            .and_then(|t| t.find_number("current"))
            .map(|ma| ma * 1000.0),
        anode: tube
            .and_then(|t| t.find_text("anodeMaterial"))
            .map(str::to_string),
        detector: root
            .find("detector")
            .and_then(|d| d.attr("name"))
            .map(str::to_string),
        instrument: tube.and_then(|t| t.attr("name")).map(str::to_string),
        acquired: root.find_text("startTimeStamp").map(str::to_string),
        ka2_wavelength_a: ka2,
        ka2_ka1_ratio: ratio,
        wavelength_defaulted: stated_ka1.is_none() && opts.wavelength_a.is_none(),
        ..Metadata::default()
    };
    Ok(Spectrum {
        counts: Array1::from(pattern.y),
        axis: Axis::TwoTheta {
            two_theta_deg: pattern.x,
            wavelength_a: stated_ka1.or(opts.wavelength_a).unwrap_or(CU_KA1_A),
        },
        meta,
    })
}
