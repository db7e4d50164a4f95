//! Configuration layers: where each comes from, its table, and whether it applies.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use toml::Table;

use crate::diagnostics::{ConfigDiagnostic, DiagnosticLocation, SourceFile, SpanPart, parse_file};
use crate::error::LoadConfigError;

/// Where a layer comes from, lowest precedence first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerSource {
    /// Built-in defaults.
    Defaults,
    /// `<system dir>/config.toml`.
    System { file: PathBuf },
    /// `$CODEX_HOME/config.toml`, or `$CODEX_HOME/<profile>.config.toml` for `--profile`.
    User {
        file: PathBuf,
        profile: Option<String>,
    },
    /// `<dir>/.codex/config.toml`, root first.
    Project { dot_codex: PathBuf },
    /// `-c` overrides.
    SessionFlags,
    /// `<system dir>/managed_config.toml`.
    LegacyManagedConfig { file: PathBuf },
}

impl LayerSource {
    /// The name used in diagnostics and `codex config show --origins`.
    pub fn display_name(&self) -> String {
        match self {
            LayerSource::Defaults => "default".to_string(),
            LayerSource::System { file } => format!("system ({})", file.display()),
            LayerSource::User { file, .. } => format!("user ({})", file.display()),
            LayerSource::Project { dot_codex } => {
                format!("project ({})", dot_codex.join("config.toml").display())
            }
            LayerSource::SessionFlags => "session-flags (-c)".to_string(),
            LayerSource::LegacyManagedConfig { file } => {
                format!("legacy managed_config.toml ({})", file.display())
            }
        }
    }

    /// Upstream's numeric precedence (higher wins).
    pub fn precedence(&self) -> i32 {
        match self {
            LayerSource::Defaults => -10,
            LayerSource::System { .. } => 10,
            LayerSource::User { profile: None, .. } => 20,
            LayerSource::User {
                profile: Some(_), ..
            } => 21,
            LayerSource::Project { .. } => 25,
            LayerSource::SessionFlags => 30,
            LayerSource::LegacyManagedConfig { .. } => 40,
        }
    }
}

/// One layer of the stack.
#[derive(Debug, Clone)]
pub(crate) struct ConfigLayer {
    pub source: LayerSource,
    pub table: Table,
    /// Set for project layers that are not trusted: kept for inspection, not applied.
    pub disabled_reason: Option<String>,
    pub file: Option<SourceFile>,
}

impl ConfigLayer {
    pub fn new(source: LayerSource, table: Table) -> ConfigLayer {
        ConfigLayer {
            source,
            table,
            disabled_reason: None,
            file: None,
        }
    }

    pub fn enabled(&self) -> bool {
        self.disabled_reason.is_none()
    }

    /// Where `key_path` is in this layer.
    pub fn locate(&self, key_path: &[String], part: SpanPart) -> DiagnosticLocation {
        match &self.file {
            Some(file) => file.locate(key_path, part),
            None => DiagnosticLocation::Layer(self.source.display_name()),
        }
    }

    pub fn diagnostic(
        &self,
        key_path: &[String],
        part: SpanPart,
        message: String,
    ) -> ConfigDiagnostic {
        ConfigDiagnostic {
            location: self.locate(key_path, part),
            message,
        }
    }
}

/// A layer as shown to users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSummary {
    pub source: LayerSource,
    pub display_name: String,
    pub disabled_reason: Option<String>,
}

/// Which read error text applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileRole {
    Config,
    ProjectConfig,
    Requirements,
}

/// Largest configuration or requirements file that is read.
pub(crate) const MAX_CONFIG_FILE_BYTES: u64 = 1 << 20;

/// Read `path` (symlinks followed) when it is a regular file of at most `limit` bytes; `Ok(None)`
/// when it is missing. On Unix the file is opened with `O_NONBLOCK` and its type checked on the
/// open descriptor, so a FIFO (whose plain open blocks until a writer appears) or a device
/// planted where a configuration file is expected fails at once instead of hanging.
pub(crate) fn read_regular_file(path: &Path, limit: u64) -> io::Result<Option<String>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    match std::fs::metadata(path) {
        Ok(metadata) if !metadata.is_file() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        _ => {}
    }
    let file = match options.open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let too_large = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the file is larger than the {limit}-byte limit"),
        )
    };
    if metadata.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))
}

/// Read a file that may be missing (`Ok(None)`); other failures (including a file that is not
/// a regular file or is larger than [`MAX_CONFIG_FILE_BYTES`]) are errors.
pub(crate) fn read_optional(
    path: &Path,
    role: FileRole,
) -> Result<Option<String>, LoadConfigError> {
    match read_regular_file(path, MAX_CONFIG_FILE_BYTES) {
        Ok(text) => Ok(text),
        Err(error) => {
            let path = path.to_path_buf();
            Err(match role {
                FileRole::Config => LoadConfigError::ReadConfig { path, error },
                FileRole::ProjectConfig => LoadConfigError::ReadProjectConfig { path, error },
                FileRole::Requirements => LoadConfigError::ReadRequirements { path, error },
            })
        }
    }
}

/// Read and parse a config file into a layer; a missing file gives an empty layer.
pub(crate) fn load_file_layer(
    source: LayerSource,
    path: &Path,
    role: FileRole,
) -> Result<ConfigLayer, LoadConfigError> {
    let mut layer = ConfigLayer::new(source, Table::new());
    if let Some(text) = read_optional(path, role)? {
        let (table, file) = parse_file(path, text)?;
        layer.table = table;
        layer.file = Some(file);
    }
    Ok(layer)
}
