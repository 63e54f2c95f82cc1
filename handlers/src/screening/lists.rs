//! Loads every sanctions list file found under a directory, recursively, each recognised by its
//! content ([`kyc_core::sanctions::sniff`]): OFAC CSV parts are grouped per directory into one
//! set, and a set whose files are named `cons_*` is the consolidated (non-SDN) list.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use kyc_core::sanctions::{
    load_eu, load_ofac, load_opensanctions_ftm, load_opensanctions_simple, load_uk, load_un, sniff,
    ListFileKind, ListKind, LoadStats, LoadedList, OfacFiles, SanctionsIndex, MAX_LIST_BYTES,
    SNIFF_BYTES,
};

/// One list loaded from disk.
#[derive(Debug, Clone)]
pub struct LoadedFromDisk {
    /// The list.
    pub list: LoadedList,
    /// The files it came from.
    pub files: Vec<PathBuf>,
}

/// What a directory held.
#[derive(Debug, Default)]
pub struct DirectoryLoad {
    /// Lists loaded.
    pub lists: Vec<LoadedFromDisk>,
    /// Files recognised as list files but not loadable, with the reason (no content echoed).
    pub failed: Vec<(PathBuf, String)>,
}

impl DirectoryLoad {
    /// Total counts over the loaded lists.
    pub fn total(&self) -> LoadStats {
        let mut t = LoadStats::default();
        for l in &self.lists {
            let s = l.list.stats;
            t.entities += s.entities;
            t.persons += s.persons;
            t.organisations += s.organisations;
            t.vessels_and_aircraft += s.vessels_and_aircraft;
            t.names += s.names;
            t.weak_aliases += s.weak_aliases;
            t.original_script_names += s.original_script_names;
            t.birth_dates += s.birth_dates;
            t.skipped_records += s.skipped_records;
        }
        t
    }

    /// Builds the screening index over every loaded list.
    pub fn into_index(self) -> SanctionsIndex {
        SanctionsIndex::build(self.lists.into_iter().map(|l| l.list).collect())
    }
}

/// Reads and loads every list file under `dir`.
pub fn load_directory(dir: &Path) -> anyhow::Result<DirectoryLoad> {
    let mut files = Vec::new();
    walk(dir, &mut files, 0).with_context(|| "reading the sanctions list directory")?;
    files.sort();
    let mut out = DirectoryLoad::default();
    let mut ofac_sets: BTreeMap<PathBuf, BTreeMap<ListFileKind, PathBuf>> = BTreeMap::new();
    for path in files {
        let Some(kind) = sniff_file(&path)? else {
            continue;
        };
        match kind {
            ListFileKind::OfacPrimary
            | ListFileKind::OfacAliases
            | ListFileKind::OfacAddresses
            | ListFileKind::OfacComments => {
                let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
                let prefix = ofac_prefix(&path);
                ofac_sets
                    .entry(parent.join(prefix))
                    .or_default()
                    .insert(kind, path);
            }
            ListFileKind::UnXml => {
                let bytes = read_file(&path)?;
                push(&mut out, load_un(&bytes), vec![path]);
            }
            ListFileKind::EuXml => {
                let bytes = read_file(&path)?;
                push(&mut out, load_eu(&bytes), vec![path]);
            }
            ListFileKind::UkCsv => {
                let bytes = read_file(&path)?;
                push(&mut out, load_uk(&bytes), vec![path]);
            }
            ListFileKind::OpenSanctionsFtm => {
                let bytes = read_file(&path)?;
                push(&mut out, load_opensanctions_ftm(&bytes), vec![path]);
            }
            ListFileKind::OpenSanctionsSimpleCsv => {
                let bytes = read_file(&path)?;
                push(&mut out, load_opensanctions_simple(&bytes), vec![path]);
            }
        }
    }
    for (_, parts) in ofac_sets {
        let Some(primary_path) = parts.get(&ListFileKind::OfacPrimary) else {
            for (_, p) in parts {
                out.failed
                    .push((p, "OFAC file without its primary file".to_string()));
            }
            continue;
        };
        let list = if is_consolidated(primary_path) {
            ListKind::OfacConsolidated
        } else {
            ListKind::OfacSdn
        };
        let read = |k: ListFileKind| -> anyhow::Result<Option<Vec<u8>>> {
            parts.get(&k).map(|p| read_file(p)).transpose()
        };
        let primary = read_file(primary_path)?;
        let (aliases, addresses, comments) = (
            read(ListFileKind::OfacAliases)?,
            read(ListFileKind::OfacAddresses)?,
            read(ListFileKind::OfacComments)?,
        );
        let loaded = load_ofac(
            OfacFiles {
                primary: &primary,
                aliases: aliases.as_deref(),
                addresses: addresses.as_deref(),
                comments: comments.as_deref(),
            },
            list,
        );
        push(&mut out, loaded, parts.into_values().collect());
    }
    Ok(out)
}

fn push(
    out: &mut DirectoryLoad,
    r: Result<LoadedList, kyc_core::sanctions::LoadError>,
    files: Vec<PathBuf>,
) {
    match r {
        Ok(list) => out.lists.push(LoadedFromDisk { list, files }),
        Err(e) => {
            for f in files {
                out.failed.push((f, e.to_string()));
            }
        }
    }
}

/// OFAC sets are told apart by the file-name prefix (`cons_`), since both use one layout.
fn ofac_prefix(p: &Path) -> &'static str {
    if is_consolidated(p) {
        "cons"
    } else {
        "sdn"
    }
}

fn is_consolidated(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().starts_with("cons"))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> std::io::Result<()> {
    if depth > 16 {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let ft = entry.file_type()?;
        if ft.is_dir() {
            walk(&entry.path(), out, depth + 1)?;
        } else if ft.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}

fn sniff_file(path: &Path) -> anyhow::Result<Option<ListFileKind>> {
    let mut f = std::fs::File::open(path).with_context(|| "opening a list file")?;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    f.by_ref()
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .with_context(|| "reading a list file")?;
    Ok(sniff(&head))
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let len = std::fs::metadata(path)
        .with_context(|| "reading a list file")?
        .len();
    if len > MAX_LIST_BYTES as u64 {
        anyhow::bail!("a list file is larger than {MAX_LIST_BYTES} bytes");
    }
    std::fs::read(path).with_context(|| "reading a list file")
}

/// One loaded list, without its entities: what it is, its counts and version, its files.
#[derive(Debug, Clone)]
pub struct ListSummary {
    /// The list.
    pub list: ListKind,
    /// Its counts.
    pub stats: LoadStats,
    /// Its content hash.
    pub version: kyc_core::sanctions::ListVersion,
    /// The files it came from.
    pub files: Vec<PathBuf>,
}

/// A directory loaded and indexed.
#[derive(Debug)]
pub struct IndexedDirectory {
    /// The screening index over every list.
    pub index: SanctionsIndex,
    /// The lists in it.
    pub lists: Vec<ListSummary>,
    /// Files recognised but not loadable, with the reason.
    pub failed: Vec<(PathBuf, String)>,
    /// Time to read, parse and index.
    pub elapsed: Duration,
}

/// Loads a directory and builds the index, timing both.
pub fn load_and_index(dir: &Path) -> anyhow::Result<IndexedDirectory> {
    let start = Instant::now();
    let load = load_directory(dir)?;
    let lists = load
        .lists
        .iter()
        .map(|l| ListSummary {
            list: l.list.list,
            stats: l.list.stats,
            version: l.list.version.clone(),
            files: l.files.clone(),
        })
        .collect();
    let DirectoryLoad {
        lists: loaded,
        failed,
    } = load;
    let index = SanctionsIndex::build(loaded.into_iter().map(|l| l.list).collect());
    Ok(IndexedDirectory {
        index,
        lists,
        failed,
        elapsed: start.elapsed(),
    })
}

/// The default list directory: `$KYC_SHARED_DATA/sanctions`, else `../shared/data/sanctions`
/// relative to the current directory, when it exists.
pub fn default_lists_dir() -> Option<PathBuf> {
    let from_env = std::env::var_os("KYC_SHARED_DATA").map(|d| PathBuf::from(d).join("sanctions"));
    let candidates = from_env
        .into_iter()
        .chain(std::iter::once(PathBuf::from("../shared/data/sanctions")));
    candidates.into_iter().find(|p| p.is_dir())
}
