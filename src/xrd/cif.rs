//! A reader for the subset of CIF (Crystallographic Information File, Hall, Allen &
//! Brown, Acta Cryst. A47 (1991) 655) that powder-pattern calculation needs: cell,
//! symmetry operations, atom sites with occupancy and displacement parameters.
//!
//! Tolerant of what real COD/AMCSD files contain: standard uncertainties in brackets
//! (`5.0346(2)`), oxidation-state or decorated labels (`Fe3+`, `FeMe`, `O-H`),
//! quoted and semicolon-delimited multi-line values, `?`/`.` placeholders, either
//! `_symmetry_equiv_pos_as_xyz` or `_space_group_symop_operation_xyz`, and
//! U_iso, B_iso or anisotropic U_ij (converted to B_iso = 8π²·(U11+U22+U33)/3).

use super::crystal::{Cell, Site, Structure, SymOp};
use crate::{Error, Result};
use std::collections::HashMap;

const FORMAT: &str = "CIF";

/// One CIF value token with whether it was quoted.
#[derive(Debug, Clone)]
struct Token {
    text: String,
}

/// Split CIF text into whitespace-separated tokens, honouring quotes and `;` fields.
fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix(';') {
            let mut value = rest.to_string();
            for next in lines.by_ref() {
                if next.starts_with(';') {
                    break;
                }
                value.push('\n');
                value.push_str(next);
            }
            out.push(Token {
                text: value.trim().to_string(),
            });
            continue;
        }
        tokenize_line(line, &mut out);
    }
    out
}

fn tokenize_line(line: &str, out: &mut Vec<Token>) {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '#' {
            return;
        } else if c == '\'' || c == '"' {
            // A quote closes only when followed by whitespace or end of line.
            let mut j = i + 1;
            while j < chars.len()
                && !(chars[j] == c && chars.get(j + 1).is_none_or(|n| n.is_whitespace()))
            {
                j += 1;
            }
            out.push(Token {
                text: chars[i + 1..j.min(chars.len())].iter().collect(),
            });
            i = j + 1;
        } else {
            let mut j = i;
            while j < chars.len() && !chars[j].is_whitespace() {
                j += 1;
            }
            out.push(Token {
                text: chars[i..j].iter().collect(),
            });
            i = j;
        }
    }
}

/// The data items of one CIF data block: single items and loops.
#[derive(Debug, Default)]
struct Block {
    name: String,
    items: HashMap<String, String>,
    loops: Vec<(Vec<String>, Vec<String>)>,
}

impl Block {
    fn item(&self, tag: &str) -> Option<&str> {
        self.items.get(tag).map(String::as_str)
    }

    /// The column `tag` of whichever loop holds it.
    fn column(&self, tag: &str) -> Option<Vec<&str>> {
        self.loops.iter().find_map(|(tags, values)| {
            let col = tags.iter().position(|t| t == tag)?;
            let n = tags.len();
            Some(
                values
                    .chunks(n)
                    .filter(|row| row.len() == n)
                    .map(|row| row[col].as_str())
                    .collect(),
            )
        })
    }
}

fn parse_blocks(text: &str) -> Vec<Block> {
    let tokens = tokenize(text);
    let mut blocks: Vec<Block> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i].text;
        let lower = t.to_ascii_lowercase();
        if lower.starts_with("data_") {
            blocks.push(Block {
                name: t[5..].to_string(),
                ..Block::default()
            });
            i += 1;
        } else if lower == "loop_" {
            i += 1;
            let mut tags = Vec::new();
            while i < tokens.len() && tokens[i].text.starts_with('_') {
                tags.push(tokens[i].text.to_ascii_lowercase());
                i += 1;
            }
            let mut values = Vec::new();
            while i < tokens.len() && !is_keyword(&tokens[i].text) {
                values.push(tokens[i].text.clone());
                i += 1;
            }
            if blocks.is_empty() {
                blocks.push(Block::default());
            }
            if let Some(b) = blocks.last_mut() {
                b.loops.push((tags, values));
            }
        } else if t.starts_with('_') {
            let value = tokens
                .get(i + 1)
                .map(|v| v.text.clone())
                .unwrap_or_default();
            if blocks.is_empty() {
                blocks.push(Block::default());
            }
            if let Some(b) = blocks.last_mut() {
                b.items.insert(lower, value);
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    blocks
}

fn is_keyword(t: &str) -> bool {
    let l = t.to_ascii_lowercase();
    t.starts_with('_') || l == "loop_" || l.starts_with("data_") || l.starts_with("global_")
}

/// A CIF number: strips a standard uncertainty in brackets (`5.0346(2)` → 5.0346).
/// `?` and `.` (unknown / not applicable) give `None`.
pub fn cif_number(s: &str) -> Option<f64> {
    let core = s.split('(').next()?.trim();
    if core.is_empty() || core == "?" || core == "." {
        return None;
    }
    core.parse().ok()
}

/// Element symbol from a CIF type symbol or label: `Fe3+` → Fe, `FeMe` → Fe, `O-H` → O,
/// `OH` → O, `Ce1` → Ce. Two-letter symbols win when they are real elements.
pub fn element_symbol(label: &str) -> Option<String> {
    let letters: Vec<char> = label
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let first = letters.first()?.to_ascii_uppercase();
    let db = crate::tables::xraydb();
    if let Some(second) = letters.get(1) {
        if second.is_ascii_lowercase() {
            let two = format!("{first}{second}");
            if db.atomic_number(&two).is_ok() {
                return Some(two);
            }
        }
    }
    let one = first.to_string();
    db.atomic_number(&one).is_ok().then_some(one)
}

/// Parse the first data block with atoms of a CIF into a [`Structure`] named `name`.
///
/// # Errors
/// [`Error::Parse`] when the cell, the atom sites or a symmetry operation is missing
/// or malformed.
pub fn parse_cif(text: &str, name: &str) -> Result<Structure> {
    let blocks = parse_blocks(text);
    let block = blocks
        .iter()
        .find(|b| b.column("_atom_site_fract_x").is_some())
        .ok_or_else(|| Error::parse(FORMAT, format!("{name}: no _atom_site_fract_x loop")))?;
    let cell = parse_cell(block, name)?;
    let ops = parse_symops(block, name)?;
    let sites = parse_sites(block, name)?;
    let title = block
        .item("_chemical_name_mineral")
        .or(block.item("_chemical_formula_sum"))
        .unwrap_or(&block.name)
        .to_string();
    Structure::new(name, &title, cell, &ops, sites)
}

fn parse_cell(block: &Block, name: &str) -> Result<Cell> {
    let get = |tag: &str| {
        block
            .item(tag)
            .and_then(cif_number)
            .ok_or_else(|| Error::parse(FORMAT, format!("{name}: missing or bad {tag}")))
    };
    let angle = |tag: &str| block.item(tag).and_then(cif_number).unwrap_or(90.0);
    Cell::new(
        get("_cell_length_a")?,
        get("_cell_length_b")?,
        get("_cell_length_c")?,
        angle("_cell_angle_alpha"),
        angle("_cell_angle_beta"),
        angle("_cell_angle_gamma"),
    )
}

fn parse_symops(block: &Block, name: &str) -> Result<Vec<SymOp>> {
    let column = block
        .column("_space_group_symop_operation_xyz")
        .or_else(|| block.column("_symmetry_equiv_pos_as_xyz"));
    let Some(column) = column else {
        // Only x,y,z: the structure is given in P1.
        return Ok(vec![SymOp::identity()]);
    };
    column
        .iter()
        .map(|s| {
            SymOp::parse(s).ok_or_else(|| {
                Error::parse(FORMAT, format!("{name}: bad symmetry operation '{s}'"))
            })
        })
        .collect()
}

fn parse_sites(block: &Block, name: &str) -> Result<Vec<Site>> {
    let bad = |what: &str| Error::parse(FORMAT, format!("{name}: {what}"));
    let xs = block
        .column("_atom_site_fract_x")
        .ok_or_else(|| bad("no x"))?;
    let ys = block
        .column("_atom_site_fract_y")
        .ok_or_else(|| bad("no y"))?;
    let zs = block
        .column("_atom_site_fract_z")
        .ok_or_else(|| bad("no z"))?;
    let labels = block.column("_atom_site_label");
    let types = block.column("_atom_site_type_symbol");
    let occ = block.column("_atom_site_occupancy");
    let uiso = block.column("_atom_site_u_iso_or_equiv");
    let biso = block.column("_atom_site_b_iso_or_equiv");
    let aniso = aniso_b(block);
    let mut sites = Vec::with_capacity(xs.len());
    for i in 0..xs.len() {
        let label = labels
            .as_ref()
            .and_then(|l| l.get(i))
            .copied()
            .unwrap_or("");
        let type_symbol = types.as_ref().and_then(|t| t.get(i)).copied();
        let element = type_symbol
            .and_then(element_symbol)
            .or_else(|| element_symbol(label))
            .ok_or_else(|| bad(&format!("cannot tell the element of site '{label}'")))?;
        let coord = |c: &Vec<&str>| cif_number(c.get(i).copied().unwrap_or("?"));
        let frac = match (coord(&xs), coord(&ys), coord(&zs)) {
            (Some(x), Some(y), Some(z)) => [x, y, z],
            _ => return Err(bad(&format!("site '{label}' has no coordinates"))),
        };
        let occupancy = occ
            .as_ref()
            .and_then(|o| o.get(i).copied().and_then(cif_number))
            .unwrap_or(1.0);
        let b_from_u = uiso
            .as_ref()
            .and_then(|u| u.get(i).copied().and_then(cif_number))
            .map(|u| 8.0 * std::f64::consts::PI.powi(2) * u);
        let b_direct = biso
            .as_ref()
            .and_then(|b| b.get(i).copied().and_then(cif_number));
        let b_iso = b_direct.or(b_from_u).or_else(|| aniso.get(label).copied());
        sites.push(Site {
            label: label.to_string(),
            element,
            frac,
            occupancy,
            b_iso,
        });
    }
    Ok(sites)
}

/// B_iso (Å²) from anisotropic U_ij: B = 8π²·U_eq with U_eq ≈ (U11+U22+U33)/3
/// (exact for orthogonal axes; Fischer & Tillmanns, Acta Cryst. C44 (1988) 775).
fn aniso_b(block: &Block) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    let (Some(labels), Some(u11), Some(u22), Some(u33)) = (
        block.column("_atom_site_aniso_label"),
        block.column("_atom_site_aniso_u_11"),
        block.column("_atom_site_aniso_u_22"),
        block.column("_atom_site_aniso_u_33"),
    ) else {
        return out;
    };
    for (i, label) in labels.iter().enumerate() {
        let u = [u11.get(i), u22.get(i), u33.get(i)]
            .iter()
            .filter_map(|v| v.and_then(|s| cif_number(s)))
            .collect::<Vec<_>>();
        if u.len() == 3 {
            let ueq = u.iter().sum::<f64>() / 3.0;
            out.insert(label.to_string(), 8.0 * std::f64::consts::PI.powi(2) * ueq);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_drop_standard_uncertainties() {
        assert_eq!(cif_number("5.0346(2)"), Some(5.0346));
        assert_eq!(cif_number("-0.1459"), Some(-0.1459));
        assert_eq!(cif_number("?"), None);
        assert_eq!(cif_number("."), None);
    }

    #[test]
    fn labels_give_elements() {
        assert_eq!(element_symbol("Fe3+").as_deref(), Some("Fe"));
        assert_eq!(element_symbol("FeMe").as_deref(), Some("Fe"));
        assert_eq!(element_symbol("O-H").as_deref(), Some("O"));
        assert_eq!(element_symbol("Ce1").as_deref(), Some("Ce"));
        assert_eq!(element_symbol("OH").as_deref(), Some("O"));
        assert_eq!(element_symbol("Co2").as_deref(), Some("Co"));
        assert_eq!(element_symbol("123"), None);
    }

    #[test]
    fn tolerant_variants_parse() {
        let text = "data_test\n_cell_length_a 4.00(1)\n_cell_length_b 4.0\n_cell_length_c 4.0\n\
             _publ_section_title\n;\n a multi-line\n title\n;\n\
             loop_\n_symmetry_equiv_pos_site_id\n_symmetry_equiv_pos_as_xyz\n1 'x, y, z'\n2 '-x,-y,-z'\n\
             loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n\
             _atom_site_fract_z\n_atom_site_occupancy\n_atom_site_B_iso_or_equiv\n\
             Na1 Na+ 0 0 0 1.0 0.5(1)\nCl1 Cl1- 0.5 0.5 0.5 1 ?\n";
        let s = parse_cif(text, "test").unwrap();
        assert_eq!(s.atoms.len(), 2);
        assert!((s.cell.a - 4.0).abs() < 1e-12);
        assert_eq!(s.sites[0].element, "Na");
        assert_eq!(s.sites[1].element, "Cl");
        assert_eq!(s.sites[0].b_iso, Some(0.5));
    }

    #[test]
    fn missing_atoms_is_an_error_not_a_panic() {
        assert!(parse_cif("data_x\n_cell_length_a 3\n", "x").is_err());
        assert!(parse_cif("", "x").is_err());
    }
}
