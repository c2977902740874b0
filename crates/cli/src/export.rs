//! `sparkfeed export`: the log as JSON Lines, to a file or to stdout, from a running
//! server's `GET /export` (`--server`, for a directory it holds) or from a data directory
//! (`--data-dir`, read from a copy taken under its lock: the directory is never written).
//! Both write the same bytes (`sparkfeed_api::export::write_line`).
//!
//! Invariant: a file export that stops midway (a dropped connection, a server error, a
//! full disk) leaves no file under the output's name: lines go to `NAME.partial`, renamed
//! to `NAME` only once the server ended the stream cleanly. A `--follow` export never
//! ends by itself, so it writes to stdout only.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use http_body_util::BodyExt;
use indicatif::ProgressBar;

use sparkfeed_api::export::parquet::ParquetWriter;
use sparkfeed_api::export::{
    ExportError, ExportFilter, ExportParams, ExportSink, JsonLines, export_log, open_for_export,
};
use sparkfeed_domain::events::DomainEvent;
use sparkfeed_events::RecordedEvent;

/// What to export, as the server's query string takes it (and the CLI's flags).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ExportRequest {
    /// First position (inclusive).
    #[arg(long)]
    pub from: Option<u64>,
    /// Last position (exclusive).
    #[arg(long)]
    pub until: Option<u64>,
    /// Only events recorded at or after this time (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events recorded before this time (RFC 3339).
    #[arg(long)]
    pub before: Option<String>,
    /// Only events of this type (repeat for more).
    #[arg(long = "type")]
    pub types: Vec<String>,
    /// Only streams whose name starts with this (e.g. `post-`).
    #[arg(long)]
    pub stream_prefix: Option<String>,
    /// Keep writing events as they are appended (to stdout), like `tail -f`.
    #[arg(long)]
    pub follow: bool,
}

impl ExportRequest {
    /// The request as the server's query string takes it.
    pub fn params(&self) -> ExportParams {
        ExportParams {
            from: self.from,
            until: self.until,
            since: self.since.clone(),
            before: self.before.clone(),
            types: (!self.types.is_empty()).then(|| self.types.join(",")),
            stream_prefix: self.stream_prefix.clone(),
            follow: self.follow,
        }
    }

    /// The path and query string of `GET /export`.
    pub fn path(&self) -> String {
        let mut query = Vec::new();
        let mut put = |key: &str, value: String| query.push(format!("{key}={}", encode(&value)));
        if let Some(from) = self.from {
            put("from", from.to_string());
        }
        if let Some(until) = self.until {
            put("until", until.to_string());
        }
        if let Some(since) = &self.since {
            put("since", since.clone());
        }
        if let Some(before) = &self.before {
            put("before", before.clone());
        }
        if !self.types.is_empty() {
            put("types", self.types.join(","));
        }
        if let Some(prefix) = &self.stream_prefix {
            put("stream_prefix", prefix.clone());
        }
        if self.follow {
            put("follow", "true".into());
        }
        if query.is_empty() {
            "/export".into()
        } else {
            format!("/export?{}", query.join("&"))
        }
    }
}

/// Percent-encodes everything but unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Streams the export of `request` from `server` into `out` (a file, or stdout when
/// `None`); answers the number of lines written.
pub async fn export(
    server: &str,
    token: &str,
    request: &ExportRequest,
    format: Format,
    out: Option<&Path>,
) -> anyhow::Result<u64> {
    if request.follow && out.is_some() {
        bail!("--follow writes to stdout only: it never ends, so no file would be complete");
    }
    if request.follow && format == Format::Parquet {
        bail!("--follow writes JSON Lines only: a Parquet file is whole only once it ends");
    }
    let response = crate::http::send(server, token, "GET", &request.path(), Vec::new()).await?;
    let status = response.status();
    let mut body = response.into_body();
    if !status.is_success() {
        let text = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        bail!(
            "the server answered {status}: {}",
            String::from_utf8_lossy(&text).trim()
        );
    }
    let mut sink = Sink::open(out, format)?;
    while let Some(frame) = body.frame().await {
        let frame = frame.context("the export stopped midway: nothing was kept")?;
        if let Some(data) = frame.data_ref() {
            sink.write(data)?;
        }
    }
    sink.finish()
}

/// Exports from the data directory `data_dir` (which no process may hold) into `out`;
/// answers the number of lines written. A progress bar shows on a terminal.
pub fn export_offline(
    data_dir: &Path,
    request: &ExportRequest,
    format: Format,
    out: Option<&Path>,
) -> anyhow::Result<u64> {
    if request.follow {
        bail!("--follow needs --server: only a server sees the log grow");
    }
    let filter = ExportFilter::parse(request.params()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let parent = data_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let scratch = tempfile::tempdir_in(parent).context("a scratch directory beside the data")?;
    let copy = scratch.path().join("copy");
    sparkfeed_eventlog::snapshot::copy_quiescent(data_dir, &copy, &[])
        .with_context(|| format!("copying {}", data_dir.display()))?;
    let log = open_for_export(&copy).context("opening the copy of the log")?;
    let bar = ProgressBar::new(filter.end(log.head().len).saturating_sub(filter.from()));
    let mut sink = Sink::open(out, format)?;
    export_log(&log, &filter, &mut sink, |done| bar.set_position(done))?;
    bar.finish_and_clear();
    sink.finish()
}

/// The format of an export.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON Lines: one object per event.
    #[default]
    Jsonl,
    /// Apache Parquet: typed envelope columns, the payload as JSON text.
    Parquet,
}

/// Bytes out, as lines or through the Parquet writer.
enum Encoder {
    Lines(JsonLines<Box<dyn Write + Send>>),
    Parquet(Box<ParquetWriter<Box<dyn Write + Send>>>),
}

/// Where lines go: stdout, or a `.partial` file renamed at the end.
struct Sink {
    out: Option<Encoder>,
    /// The partial file and the name it gets once complete.
    partial: Option<(PathBuf, PathBuf)>,
    finished: bool,
    lines: u64,
}

impl Sink {
    fn open(out: Option<&Path>, format: Format) -> anyhow::Result<Self> {
        let (raw, partial): (Box<dyn Write + Send>, _) = match out.filter(|p| *p != Path::new("-"))
        {
            None => (Box::new(std::io::stdout()), None),
            Some(path) => {
                let mut partial = path.as_os_str().to_owned();
                partial.push(".partial");
                let partial = PathBuf::from(partial);
                let file = std::fs::File::create(&partial)
                    .with_context(|| format!("creating {}", partial.display()))?;
                let buffered = Box::new(std::io::BufWriter::new(file));
                (buffered, Some((partial, path.to_owned())))
            }
        };
        let encoder = match format {
            Format::Jsonl => Encoder::Lines(JsonLines::new(raw, partial.is_none())),
            Format::Parquet => Encoder::Parquet(Box::new(
                ParquetWriter::new(raw).context("starting the Parquet file")?,
            )),
        };
        Ok(Self {
            out: Some(encoder),
            partial,
            finished: false,
            lines: 0,
        })
    }

    /// Takes lines already encoded, from `GET /export`.
    fn write(&mut self, data: &[u8]) -> anyhow::Result<()> {
        self.lines += data.iter().filter(|b| **b == b'\n').count() as u64;
        match &mut self.out {
            Some(Encoder::Lines(out)) => out.write_encoded(data).context("writing the export")?,
            Some(Encoder::Parquet(writer)) => writer.write(data).context("writing Parquet")?,
            None => {}
        }
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<u64> {
        let mut out = match self.out.take() {
            Some(Encoder::Lines(out)) => out.finish().context("writing the export")?,
            Some(Encoder::Parquet(writer)) => writer.finish().context("finishing Parquet")?,
            None => Box::new(std::io::sink()),
        };
        out.flush().context("writing the export")?;
        // Closes the file before it is renamed.
        drop(out);
        if let Some((partial, path)) = &self.partial {
            std::fs::rename(partial, path)
                .with_context(|| format!("renaming {} to {}", partial.display(), path.display()))?;
        }
        self.finished = true;
        Ok(self.lines)
    }
}

/// The offline export writes events straight into the encoder.
impl ExportSink for Sink {
    fn event(&mut self, event: &RecordedEvent, data: &DomainEvent) -> Result<(), ExportError> {
        self.lines += 1;
        match &mut self.out {
            Some(Encoder::Lines(out)) => out.event(event, data),
            Some(Encoder::Parquet(writer)) => writer.event(event, data),
            None => Ok(()),
        }
    }

    fn end_batch(&mut self) -> Result<(), ExportError> {
        match &mut self.out {
            Some(Encoder::Lines(out)) => out.end_batch(),
            Some(Encoder::Parquet(writer)) => writer.end_batch(),
            None => Ok(()),
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        // Not finished: the partial file goes, so nothing looks complete.
        if let (false, Some((partial, _))) = (self.finished, &self.partial) {
            let _ = std::fs::remove_file(partial);
        }
    }
}
