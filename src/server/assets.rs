//! The back office's static files (docs/architecture.md#static-files): the
//! names of this build's stylesheet, script and WASM, and how long browsers
//! may keep them.
//!
//! `cargo leptos build` with `hash-files` names them after their content
//! (`postern.<hash>.wasm`) and writes the hashes to a file beside the
//! binary ([`crate::config::HASH_FILE`]); a name that changes with every
//! change of content can be cached for good (`immutable`). Without that
//! file (a build without hashes, the test binaries) the plain names are
//! served and browsers ask again each time (`no-cache`: a 304 when
//! nothing changed). `--precompress` leaves `.br` and `.gz` beside each
//! file, which the file handler sends to browsers that accept them.
//! `--split` adds the pages' WASM chunks (`chunk_7.<hash>.wasm`, …), their
//! loader and their manifest, which names every chunk this build wrote.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use leptos::config::LeptosOptions;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// This build's file names, found once per process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assets {
    /// `/pkg/postern.<hash>.css` or `/pkg/postern.css`.
    pub stylesheet: String,
    /// The folder of the built files, `/pkg/`.
    prefix: String,
    /// The names under it that carry their content's hash.
    hashed: HashSet<String>,
}

static ASSETS: OnceLock<Assets> = OnceLock::new();

/// The split build's manifest and loader (cargo-leptos `--split`), before
/// their hash.
const SPLIT_MANIFEST: &str = "__wasm_split_manifest";
const SPLIT_LOADER: &str = "__wasm_split";

impl Assets {
    /// The names for `options`, from the hash file beside the binary when
    /// `options.hash_files` is on, and the chunks its split manifest names.
    pub fn find(options: &LeptosOptions) -> Self {
        let hashes = if options.hash_files {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())))
                .and_then(|path| std::fs::read_to_string(path).ok())
                .unwrap_or_default()
        } else {
            String::new()
        };
        let mut assets = Self::from_hashes(options, &hashes);
        if let Some(manifest) = assets.hashed.iter().find(|name| name.starts_with(SPLIT_MANIFEST)) {
            let path = std::path::Path::new(options.site_root.as_ref())
                .join(options.site_pkg_dir.trim_matches('/'))
                .join(manifest);
            match std::fs::read_to_string(&path) {
                Ok(text) => assets.add_split_chunks(&text),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "the WASM split manifest does not read; its chunks are served with no-cache")
                }
            }
        }
        assets
    }

    /// The names for `options` from the hash file's text (`css: <hash>`
    /// lines; empty: no hashes).
    pub fn from_hashes(options: &LeptosOptions, hashes: &str) -> Self {
        let output = options.output_name.as_ref();
        let prefix = format!("/{}/", options.site_pkg_dir.trim_matches('/'));
        let mut stylesheet = format!("{prefix}{output}.css");
        let mut hashed = HashSet::new();
        for (kind, hash) in hashes.lines().filter_map(|line| line.split_once(':')) {
            let (kind, hash) = (kind.trim(), hash.trim());
            // A hash is base64url: anything else is not a name this build wrote.
            if hash.is_empty() || !hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                continue;
            }
            let name = match kind {
                "css" | "js" | "wasm" => format!("{output}.{hash}.{kind}"),
                "manifest" => format!("{SPLIT_MANIFEST}.{hash}.json"),
                "split" => format!("{SPLIT_LOADER}.{hash}.js"),
                _ => continue,
            };
            if kind == "css" {
                stylesheet = format!("{prefix}{name}");
            }
            hashed.insert(name);
        }
        Self { stylesheet, prefix, hashed }
    }

    /// Adds the WASM chunks the split manifest names (`{"<page>":
    /// ["chunk_7.<hash>", …]}`): each name carries its content's hash.
    fn add_split_chunks(&mut self, manifest: &str) {
        let Ok(pages) = serde_json::from_str::<HashMap<String, Vec<String>>>(manifest) else {
            tracing::warn!("the WASM split manifest is not a map of chunk lists; its chunks are served with no-cache");
            return;
        };
        let chunks = pages.into_values().flatten();
        self.hashed.extend(
            chunks
                .filter(|chunk| chunk.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)))
                .map(|chunk| format!("{chunk}.wasm")),
        );
    }

    /// Installs the names the pages of this process use; the first call wins
    /// (every router of a process serves the same build).
    pub fn install(self) -> &'static Assets {
        let assets = ASSETS.get_or_init(|| self);
        crate::app::set_stylesheet(assets.stylesheet.clone());
        assets
    }

    /// How long a browser may keep the file at `path`: `None` when the path
    /// is not a built file.
    fn cache_control(&self, path: &str) -> Option<&'static str> {
        if let Some(name) = path.strip_prefix(&self.prefix) {
            let base = name.strip_suffix(".br").or_else(|| name.strip_suffix(".gz")).unwrap_or(name);
            return Some(if self.hashed.contains(base) { "public, max-age=31536000, immutable" } else { "no-cache" });
        }
        (path == "/favicon.svg").then_some("public, max-age=86400")
    }
}

/// The stylesheet of the pages rendered outside the app (consent errors,
/// the logout question).
pub fn stylesheet() -> &'static str {
    ASSETS.get().map_or("/pkg/postern.css", |a| a.stylesheet.as_str())
}

/// Sets `Cache-Control` (and `Vary: Accept-Encoding`, since a `.br` or
/// `.gz` may be sent for the same URL) on the built files the file handler
/// serves.
pub async fn cache_headers(req: Request, next: Next) -> Response {
    let policy = (matches!(*req.method(), Method::GET | Method::HEAD))
        .then(|| ASSETS.get().and_then(|a| a.cache_control(req.uri().path())))
        .flatten();
    let mut response = next.run(req).await;
    if let Some(policy) = policy {
        let status = response.status();
        if status.is_success() || status == axum::http::StatusCode::NOT_MODIFIED {
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
            headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> LeptosOptions {
        LeptosOptions::builder().output_name("postern").site_pkg_dir("pkg").hash_files(true).build()
    }

    #[test]
    fn hashed_names_are_kept_for_good_and_others_revalidated() {
        let assets = Assets::from_hashes(&options(), "js: AbC-1_x\nwasm: QQQ\ncss: ZZ9\n");
        assert_eq!(assets.stylesheet, "/pkg/postern.ZZ9.css");
        let forever = Some("public, max-age=31536000, immutable");
        assert_eq!(assets.cache_control("/pkg/postern.QQQ.wasm"), forever);
        assert_eq!(assets.cache_control("/pkg/postern.QQQ.wasm.br"), forever);
        assert_eq!(assets.cache_control("/pkg/postern.AbC-1_x.js"), forever);
        assert_eq!(assets.cache_control("/pkg/postern.wasm"), Some("no-cache"), "an old unhashed name");
        assert_eq!(assets.cache_control("/pkg/postern.OLD.wasm"), Some("no-cache"), "another build's name");
        assert_eq!(assets.cache_control("/favicon.svg"), Some("public, max-age=86400"));
        assert_eq!(assets.cache_control("/admin/login"), None);
    }

    #[test]
    fn the_chunks_loader_and_manifest_of_a_split_build_are_kept_for_good() {
        let mut assets = Assets::from_hashes(&options(), "wasm: QQQ\nmanifest: MMM\nsplit: SSS\n");
        assets.add_split_chunks(
            r#"{"__users_view_1":["chunk_7.C7h","split___users_view_1.U-1"],"__login_view_2":["chunk_7.C7h"]}"#,
        );
        let forever = Some("public, max-age=31536000, immutable");
        assert_eq!(assets.cache_control("/pkg/__wasm_split_manifest.MMM.json"), forever);
        assert_eq!(assets.cache_control("/pkg/__wasm_split.SSS.js.br"), forever);
        assert_eq!(assets.cache_control("/pkg/chunk_7.C7h.wasm"), forever);
        assert_eq!(assets.cache_control("/pkg/split___users_view_1.U-1.wasm.gz"), forever);
        assert_eq!(
            assets.cache_control("/pkg/chunk_8.C7h.wasm"),
            Some("no-cache"),
            "a chunk the manifest does not name"
        );
        let mut odd = Assets::from_hashes(&options(), "");
        odd.add_split_chunks(r#"{"x":["../../etc/passwd"]}"#);
        odd.add_split_chunks("not json");
        assert!(odd.hashed.is_empty(), "{:?}", odd.hashed);
    }

    #[test]
    fn without_hashes_the_plain_names_are_used() {
        let assets = Assets::from_hashes(&options(), "");
        assert_eq!(assets.stylesheet, "/pkg/postern.css");
        assert_eq!(assets.cache_control("/pkg/postern.css"), Some("no-cache"));
        let odd = Assets::from_hashes(&options(), "css: ../../x\n");
        assert_eq!(odd.stylesheet, "/pkg/postern.css", "a hash that is not base64url is ignored");
    }
}
