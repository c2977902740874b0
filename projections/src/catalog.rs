//! The catalog: a small sled store naming, for each projection, the generation served and
//! the layout version ([`Projection::version`]) that built it. The only place its keys
//! are spelled and its entries written.
//!
//! Keys: `NAME` -> generation (u64, big-endian); `NAME@version` -> layout version (u32,
//! big-endian). A catalog from before versions were recorded has no version key: its
//! stores hold version 1 layouts.

use std::fs::File;
use std::path::Path;

use crate::store::{Generation, sync_names};
use crate::{Projection, ProjectionError};

/// The catalog's page cache: it holds a few keys.
const CATALOG_CACHE_BYTES: u64 = 1 << 20;

/// The catalog of one projections root.
pub(crate) struct Catalog {
    db: sled::Db,
    /// Its data file, for the `fdatasync` sled's flush does not do.
    data: File,
}

/// The key holding the layout version the named generation was built by.
fn version_key(name: &str) -> String {
    format!("{name}@version")
}

impl Catalog {
    /// Opens (or creates) the catalog under `root`, its name durable in `root`.
    pub(crate) fn open(root: &Path) -> Result<Self, ProjectionError> {
        let dir = root.join("catalog");
        let config = sled::Config::new()
            .path(&dir)
            .cache_capacity(CATALOG_CACHE_BYTES);
        let db = sparkfeed_eventlog::sled_lock::open(&config, &dir)?;
        sync_names(&dir)?;
        let data = File::open(dir.join("db")).map_err(|e| ProjectionError::Store(e.into()))?;
        Ok(Self { db, data })
    }

    /// The generation of projection `name` the catalog names, if any.
    pub(crate) fn generation(&self, name: &str) -> Result<Option<u64>, ProjectionError> {
        self.db
            .get(name)?
            .map(|g| {
                g.as_ref()
                    .try_into()
                    .map(u64::from_be_bytes)
                    .map_err(|_| corrupt(name))
            })
            .transpose()
    }

    /// The layout version that built the generation of `name` the catalog names.
    fn built_by(&self, name: &str) -> Result<u32, ProjectionError> {
        match self.db.get(version_key(name).as_bytes())? {
            Some(v) => v
                .as_ref()
                .try_into()
                .map(u32::from_be_bytes)
                .map_err(|_| corrupt(name)),
            // Stores from before versions were recorded hold version 1 layouts.
            None => Ok(1),
        }
    }

    /// The generation of `projection` to serve, and whether the catalog has yet to name it
    /// ([`Catalog::name`], once its store is open): the catalog's, unless it names none
    /// (generation 0) or one built by another layout version, in which case a fresh, empty
    /// generation under `root` replaces it (the runners then replay the log into it from
    /// zero). Generations the catalog no longer names are removed by
    /// [`Generation::remove_unlisted`].
    pub(crate) fn current_generation(
        &self,
        root: &Path,
        projection: &dyn Projection,
    ) -> Result<(u64, bool), ProjectionError> {
        let name = projection.name();
        let Some(generation) = self.generation(name)? else {
            return Ok((0, true));
        };
        let built_by = self.built_by(name)?;
        if built_by == projection.version() {
            return Ok((generation, false));
        }
        tracing::warn!(
            projection = name,
            built_by,
            current = projection.version(),
            "the projection was built by another layout version: replaying the log into a fresh generation"
        );
        let fresh = next_generation(name, generation)?;
        Generation::remove(&Generation::dir(root, name, fresh))?;
        Ok((fresh, true))
    }

    /// Names `generation` as `projection`'s, with its layout version, durably: sled's
    /// flush and an `fdatasync` of the catalog's data file, so that nothing after it (a
    /// rebuild retiring the old generation) can become durable without it.
    pub(crate) fn name(
        &self,
        projection: &dyn Projection,
        generation: u64,
    ) -> Result<(), ProjectionError> {
        let name = projection.name();
        let mut batch = sled::Batch::default();
        batch.insert(name, &generation.to_be_bytes());
        batch.insert(
            version_key(name).as_bytes(),
            &projection.version().to_be_bytes(),
        );
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        self.data
            .sync_data()
            .map_err(|e| ProjectionError::Store(e.into()))
    }
}

fn corrupt(name: &str) -> ProjectionError {
    ProjectionError::Corrupt(format!("catalog entry of {name}"))
}

/// The generation after `generation` of projection `name`; a catalog that names the last
/// one there is is corrupt (only a hand-written entry can).
pub(crate) fn next_generation(name: &str, generation: u64) -> Result<u64, ProjectionError> {
    generation.checked_add(1).ok_or_else(|| {
        ProjectionError::Corrupt(format!(
            "{name}: the catalog names generation {generation}, the last there is"
        ))
    })
}

#[cfg(test)]
mod tests {
    use sparkfeed_domain::events::DomainEvent;
    use sparkfeed_events::{Position, RecordedEvent};

    use super::*;
    use crate::store::tests::generation;
    use crate::store::{Rows, checkpoint};

    #[test]
    fn a_catalog_naming_the_last_generation_is_corrupt_not_an_overflow() {
        assert_eq!(next_generation("feeds", 3).expect("a next one"), 4);
        let last = next_generation("feeds", u64::MAX).expect_err("none after the last");
        assert_eq!(last.code(), "CORRUPT");
        assert!(last.to_string().contains("feeds"), "{last}");
    }

    /// A projection that writes nothing, at a chosen layout version.
    struct Layout(u32);

    impl Projection for Layout {
        fn name(&self) -> &'static str {
            "layout"
        }

        fn version(&self) -> u32 {
            self.0
        }

        fn apply(
            &self,
            _rows: &mut Rows<'_>,
            _stored: &RecordedEvent,
            _event: &DomainEvent,
        ) -> Result<(), ProjectionError> {
            Ok(())
        }
    }

    /// A projections root with its catalog.
    fn store() -> (tempfile::TempDir, Catalog) {
        let dir = tempfile::tempdir().expect("temp dir");
        let catalog = Catalog::open(dir.path()).expect("catalog");
        (dir, catalog)
    }

    /// The generation to serve, named in the catalog as `open` does.
    fn current(root: &Path, catalog: &Catalog, version: u32) -> u64 {
        let (generation, unnamed) = catalog
            .current_generation(root, &Layout(version))
            .expect("opens");
        if unnamed {
            catalog.name(&Layout(version), generation).expect("names");
        }
        generation
    }

    #[test]
    fn a_store_of_the_same_layout_version_is_served_as_it_is() {
        let (dir, catalog) = store();
        let first = current(dir.path(), &catalog, 3);
        generation(dir.path(), first)
            .tree()
            .insert("row", "kept")
            .expect("insert");
        let again = current(dir.path(), &catalog, 3);
        assert_eq!(first, again);
        assert!(
            generation(dir.path(), again)
                .tree()
                .contains_key("row")
                .expect("read")
        );
    }

    #[test]
    fn a_store_built_by_another_layout_version_is_replaced_by_a_fresh_generation() {
        let (dir, catalog) = store();
        let old = current(dir.path(), &catalog, 1);
        generation(dir.path(), old)
            .tree()
            .insert("row", "old layout")
            .expect("insert");

        let fresh = current(dir.path(), &catalog, 2);
        assert_eq!(fresh, old + 1);
        let tree = generation(dir.path(), fresh).tree();
        assert!(tree.is_empty(), "the fresh generation replays from zero");
        assert_eq!(checkpoint(&tree).expect("checkpoint"), Position(0));
        Generation::remove_unlisted(dir.path(), &[("layout", fresh)]).expect("removes");
        assert!(
            !Generation::dir(dir.path(), "layout", old).exists(),
            "the old layout's store is removed"
        );
        assert_eq!(
            current(dir.path(), &catalog, 2),
            fresh,
            "the new version is recorded"
        );
    }

    #[test]
    fn a_store_from_before_versions_were_recorded_counts_as_version_one() {
        let (dir, catalog) = store();
        catalog
            .db
            .insert("layout", &7u64.to_be_bytes())
            .expect("an unversioned catalog entry");
        assert_eq!(current(dir.path(), &catalog, 1), 7);
        assert_eq!(current(dir.path(), &catalog, 2), 8);
    }
}
