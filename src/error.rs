//! The library's one error type. File context is added once, at the `formats`
//! boundary, by [`Error::InFile`].

use std::path::PathBuf;

/// Library result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong inside reescan.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error that happened while reading a particular file.
    #[error("{}: {source}", path.display())]
    InFile {
        /// The file being read.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: Box<Error>,
    },
    /// The bytes are not in any supported format.
    #[error("unknown format: {0}")]
    UnknownFormat(String),
    /// The file is in a known format but its content is malformed.
    #[error("{format}: {message}")]
    Parse {
        /// Format name (e.g. "EMSA/MAS").
        format: &'static str,
        /// What is wrong, with a line number where there is one.
        message: String,
    },
    /// The spectrum has no energy calibration and none was given.
    #[error("no energy calibration in the file: give --gain KEV_PER_CH and --offset KEV")]
    MissingCalibration,
    /// A value is outside what is physically possible or supported.
    #[error("invalid {what}: {message}")]
    Invalid {
        /// The quantity (e.g. "gain").
        what: &'static str,
        /// Why it is invalid.
        message: String,
    },
    /// Unknown element symbol, line, commodity, phase, ...
    #[error("unknown {what} '{name}'; known: {known}")]
    Unknown {
        /// Kind of thing (e.g. "commodity").
        what: &'static str,
        /// The name given.
        name: String,
        /// Valid names.
        known: String,
    },
    /// Rules file problem naming the key.
    #[error("rules: {key}: {message}")]
    Rules {
        /// Dotted key path.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A numerical procedure could not proceed.
    #[error("numerical: {0}")]
    Numerical(String),
    /// I/O error.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Error {
    /// Attach the file being read.
    pub fn in_file(self, path: impl Into<PathBuf>) -> Error {
        match self {
            e @ Error::InFile { .. } => e,
            e => Error::InFile {
                path: path.into(),
                source: Box::new(e),
            },
        }
    }

    /// Shorthand for a parse error.
    pub fn parse(format: &'static str, message: impl Into<String>) -> Error {
        Error::Parse {
            format,
            message: message.into(),
        }
    }

    /// True when the error is about the input (bad file, bad value) rather than the program;
    /// the CLI maps these to exit status 2.
    pub fn is_input_error(&self) -> bool {
        match self {
            Error::InFile { source, .. } => source.is_input_error(),
            Error::Numerical(_) => false,
            _ => true,
        }
    }
}
