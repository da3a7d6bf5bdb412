//! `POST /upload`: a lab bench's scan into the station folder.
//!
//! The files go to `.reescan/uploads/` first (the station never looks there), each cut
//! off at [`super::ServeConfig::max_file_bytes`]; once the whole form has been read and
//! checked they are linked into the folder as `ID.EXT` (a link never replaces a file
//! already there) and the declaration `ID.json` is written last, so the station sees a
//! complete, declared scan.

use super::pages::upload_page;
use super::query;
use super::App;
use crate::station::folder::{XRD_EXT, XRF_EXT};
use crate::station::journal::STATE_DIR;
use crate::station::Role;
use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A refused upload: the status and the sentence the form shows.
struct Refusal(StatusCode, String);

fn refuse(status: StatusCode, why: impl Into<String>) -> Refusal {
    Refusal(status, why.into())
}

/// A file received into the uploads folder.
struct Received {
    role: Role,
    ext: String,
    stem: String,
    temp: PathBuf,
}

/// Files received so far, removed from the uploads folder when dropped.
#[derive(Default)]
struct Temps(Vec<PathBuf>);

impl Drop for Temps {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// `POST /upload`.
pub(super) async fn receive(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    match take(&app, &headers, &mut form).await {
        Ok(id) => Redirect::to(&format!(
            "/{}",
            query::query_string([("q", id.clone()), ("uploaded", id)])
        ))
        .into_response(),
        Err(Refusal(status, why)) => {
            // Read what is left of the body (bounded by the route's body limit) so that
            // the client, still sending, reads the answer rather than a reset connection.
            while let Ok(Some(mut f)) = form.next_field().await {
                while let Ok(Some(_)) = f.chunk().await {}
            }
            upload_page(&app, Some(&why), status)
        }
    }
}

/// Read, check and place the upload; the scan id it was written under.
async fn take(app: &App, headers: &HeaderMap, form: &mut Multipart) -> Result<String, Refusal> {
    same_origin(headers)?;
    let max = app.config().max_file_bytes;
    let uploads = app.dir().join(STATE_DIR).join("uploads");
    std::fs::create_dir_all(&uploads).map_err(|e| {
        refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("uploads folder: {e}"),
        )
    })?;
    let mut csrf_ok = false;
    let mut declared = None;
    let mut scan_id = None;
    let mut files: Vec<Received> = Vec::new();
    let mut temps = Temps::default();
    while let Some(mut field) = form.next_field().await.map_err(multipart)? {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "csrf" => {
                let given = field.text().await.map_err(multipart)?;
                csrf_ok = super::same_secret(given.trim(), &app.csrf);
                if !csrf_ok {
                    return Err(refuse(
                        StatusCode::FORBIDDEN,
                        "The form's security token is wrong or stale: reload the upload page \
                         and send it again.",
                    ));
                }
            }
            "declared" => declared = Some(field.text().await.map_err(multipart)?),
            "scan_id" => scan_id = Some(field.text().await.map_err(multipart)?),
            "xrf" | "xrd" => {
                if !csrf_ok {
                    return Err(refuse(
                        StatusCode::FORBIDDEN,
                        "The form's security token is missing (it must come before the files): \
                         use the upload page.",
                    ));
                }
                let role = if name == "xrf" { Role::Xrf } else { Role::Xrd };
                let Some(given) = field.file_name().map(str::to_string) else {
                    continue;
                };
                if given.is_empty() {
                    continue; // a file input left empty
                }
                if files.iter().any(|f| f.role == role) {
                    return Err(refuse(StatusCode::BAD_REQUEST, format!("two {name} files")));
                }
                let (stem, ext) = checked_name(&given, role)?;
                let temp = uploads.join(format!(
                    "{}-{}.part",
                    std::process::id(),
                    rand::random::<u64>()
                ));
                temps.0.push(temp.clone());
                let written = save(&mut field, &temp, max).await?;
                if written == 0 {
                    return Err(refuse(StatusCode::BAD_REQUEST, format!("{given} is empty")));
                }
                files.push(Received {
                    role,
                    ext,
                    stem,
                    temp,
                });
            }
            _ => {} // unknown fields are ignored
        }
    }
    if !csrf_ok {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "The form's security token is missing: use the upload page.",
        ));
    }
    if files.is_empty() {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "Give an XRF file, an XRD file or both.",
        ));
    }
    let declared = declared.unwrap_or_default();
    let commodity = app
        .setup
        .screener
        .rules
        .commodity(&declared)
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, e.to_string()))?
        .0
        .to_string();
    let id = match scan_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(given) => safe_file_name(given)
            .filter(|s| s == given)
            .ok_or_else(|| {
                refuse(
                    StatusCode::BAD_REQUEST,
                    "A scan id may hold letters, digits, '.', '_' and '-' only.",
                )
            })?,
        None => files[0].stem.clone(),
    };
    if !super::valid_scan_id(&id, app.config().max_id_chars) || id.starts_with('.') {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "That is not a usable scan id.",
        ));
    }
    place(app.dir(), &uploads, &id, &commodity, &files)?;
    Ok(id)
}

/// The `Origin` (or, without it, the `Referer`) must be this server.
fn same_origin(headers: &HeaderMap) -> Result<(), Refusal> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "No Host header."))?;
    let from = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|h| h.to_str().ok());
    let Some(from) = from else {
        return Ok(()); // not a browser's cross-site post: the CSRF token decides
    };
    let rest = from
        .strip_prefix("http://")
        .or_else(|| from.strip_prefix("https://"))
        .unwrap_or("");
    let origin_host = rest.split('/').next().unwrap_or("");
    if origin_host.eq_ignore_ascii_case(host) {
        Ok(())
    } else {
        Err(refuse(
            StatusCode::FORBIDDEN,
            "The upload came from another site's page; use this station's upload page.",
        ))
    }
}

/// The multipart errors: a body past the limit is 413, anything else 400.
fn multipart(e: MultipartError) -> Refusal {
    let status = e.status();
    let why = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "The upload is larger than the station accepts.".to_string()
    } else {
        format!("The form could not be read: {e}")
    };
    refuse(status, why)
}

/// A file name's stem (sanitised) and extension (lower case), the extension one the
/// station reads for `role`.
fn checked_name(given: &str, role: Role) -> Result<(String, String), Refusal> {
    let base = given.rsplit(['/', '\\']).next().unwrap_or("");
    let (stem, ext) = base.rsplit_once('.').unwrap_or((base, ""));
    let ext = ext.to_ascii_lowercase();
    let (allowed, what) = match role {
        Role::Xrf => (&XRF_EXT[..], "XRF"),
        Role::Xrd => (&XRD_EXT[..], "XRD"),
    };
    if !allowed.contains(&ext.as_str()) {
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "{} is not an {what} file the station reads (.{}).",
                safe_file_name(base).unwrap_or_default(),
                allowed.join(", .")
            ),
        ));
    }
    let stem = safe_file_name(stem).unwrap_or_else(|| "upload".into());
    Ok((stem, ext))
}

/// A name made of ASCII letters, digits, `.`, `_` and `-` only (others become `_`),
/// without leading dots, at most 100 characters; `None` when nothing is left.
pub(super) fn safe_file_name(given: &str) -> Option<String> {
    let s: String = given
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let s = s.trim_start_matches('.').to_string();
    (!s.is_empty()).then_some(s)
}

/// Stream a file field into `temp`, refusing it past `max` bytes.
async fn save(field: &mut Field<'_>, temp: &Path, max: u64) -> Result<u64, Refusal> {
    let io = |e: std::io::Error| refuse(StatusCode::INTERNAL_SERVER_ERROR, format!("saving: {e}"));
    let mut out = std::fs::File::create(temp).map_err(io)?;
    let mut n = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(multipart)? {
        n += chunk.len() as u64;
        if n > max {
            return Err(refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "The file is larger than {} MiB, the most a scan file may be.",
                    max >> 20
                ),
            ));
        }
        out.write_all(&chunk).map_err(io)?;
    }
    out.sync_all().map_err(io)?;
    Ok(n)
}

/// Link the files into the folder as `ID.EXT` and write `ID.json` last; nothing already
/// there is replaced.
fn place(
    dir: &Path,
    uploads: &Path,
    id: &str,
    commodity: &str,
    files: &[Received],
) -> Result<(), Refusal> {
    let target = |f: &Received| format!("{id}.{}", f.ext);
    let sidecar = format!("{id}.json");
    for name in files.iter().map(target).chain([sidecar.clone()]) {
        if dir.join(&name).exists() {
            return Err(refuse(
                StatusCode::CONFLICT,
                format!("{name} is already in the station folder: give another scan id."),
            ));
        }
    }
    let mut declaration = serde_json::json!({ "declared": commodity, "scan_id": id });
    let mut placed = Vec::new();
    let undo = |placed: &[PathBuf]| {
        for p in placed {
            let _ = std::fs::remove_file(p);
        }
    };
    for f in files {
        let name = target(f);
        let to = dir.join(&name);
        if let Err(e) = std::fs::hard_link(&f.temp, &to) {
            undo(&placed);
            return Err(refuse(
                StatusCode::CONFLICT,
                format!("{name} could not be placed in the station folder: {e}"),
            ));
        }
        placed.push(to);
        let key = match f.role {
            Role::Xrf => "xrf",
            Role::Xrd => "xrd",
        };
        declaration[key] = serde_json::Value::String(name);
    }
    let temp = uploads.join(format!(
        "{}-{}.json.part",
        std::process::id(),
        rand::random::<u64>()
    ));
    let written = std::fs::write(&temp, declaration.to_string())
        .and_then(|()| std::fs::hard_link(&temp, dir.join(&sidecar)));
    let _ = std::fs::remove_file(&temp);
    if let Err(e) = written {
        undo(&placed);
        return Err(refuse(
            StatusCode::CONFLICT,
            format!("{sidecar} could not be written: {e}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_folders_and_odd_characters() {
        assert_eq!(safe_file_name("S001.msa").as_deref(), Some("S001.msa"));
        assert_eq!(
            safe_file_name("../../x y.msa").as_deref(),
            Some("_.._x_y.msa")
        );
        assert_eq!(safe_file_name("..."), None);
        assert_eq!(safe_file_name("<script>").as_deref(), Some("_script_"));
        let (stem, ext) = checked_name("C:\\bench\\..\\lot 7.MSA", Role::Xrf)
            .ok()
            .unwrap();
        assert_eq!((stem.as_str(), ext.as_str()), ("lot_7", "msa"));
        assert!(checked_name("a.exe", Role::Xrf).is_err());
        assert!(checked_name("a.msa", Role::Xrd).is_err());
    }
}
