//! Where session tokens live: a [`SecretStore`] the host may supply (Keychain, Android
//! Keystore, libsecret), by default [`FileSecretStore`] in the data directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::SecretStoreError;

/// Secure storage for small secrets, keyed by plain names (`session`). Calls may block (a
/// Keychain prompt, a disk write): the client makes them off the async workers.
pub trait SecretStore: Send + Sync + std::fmt::Debug {
    /// The secret under `key`, if any.
    fn load(&self, key: &str) -> Result<Option<String>, SecretStoreError>;
    /// Stores `value` under `key`, replacing what was there, durably before returning.
    fn save(&self, key: &str, value: &str) -> Result<(), SecretStoreError>;
    /// Forgets `key` (no error if absent).
    fn delete(&self, key: &str) -> Result<(), SecretStoreError>;
}

/// Secrets as files `<dir>/<key>.secret`, readable by the owner only (mode 0600 on Unix),
/// replaced atomically (write, fsync, rename).
#[derive(Debug, Clone)]
pub struct FileSecretStore {
    dir: PathBuf,
}

impl FileSecretStore {
    /// A store in `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>) -> FileSecretStore {
        FileSecretStore { dir: dir.into() }
    }

    fn path(&self, key: &str) -> Result<PathBuf, SecretStoreError> {
        let plain = !key.is_empty()
            && key.len() <= 64
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !plain {
            return Err(SecretStoreError(format!("invalid secret name {key:?}")));
        }
        Ok(self.dir.join(format!("{key}.secret")))
    }
}

fn io(what: &str, error: std::io::Error) -> SecretStoreError {
    SecretStoreError(format!("{what}: {error}"))
}

fn owner_only_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

impl SecretStore for FileSecretStore {
    fn load(&self, key: &str) -> Result<Option<String>, SecretStoreError> {
        match std::fs::read_to_string(self.path(key)?) {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read", e)),
        }
    }

    fn save(&self, key: &str, value: &str) -> Result<(), SecretStoreError> {
        let path = self.path(key)?;
        std::fs::create_dir_all(&self.dir).map_err(|e| io("create directory", e))?;
        let temporary = path.with_extension("secret.tmp");
        let mut file = owner_only_file(&temporary).map_err(|e| io("create", e))?;
        file.write_all(value.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| io("write", e))?;
        drop(file);
        std::fs::rename(&temporary, &path).map_err(|e| io("replace", e))?;
        // The rename is durable once the directory entry is synced.
        if let Ok(dir) = std::fs::File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), SecretStoreError> {
        match std::fs::remove_file(self.path(key)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("delete", e)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn saves_replaces_and_deletes_owner_only_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSecretStore::new(dir.path().join("secrets"));
        assert_eq!(store.load("session").unwrap(), None);
        store.save("session", "one").unwrap();
        store.save("session", "two").unwrap();
        assert_eq!(store.load("session").unwrap().as_deref(), Some("two"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = dir.path().join("secrets/session.secret");
            let mode = std::fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        store.delete("session").unwrap();
        store.delete("session").unwrap();
        assert_eq!(store.load("session").unwrap(), None);
        let refused = store.save("../escape", "x").unwrap_err();
        assert_eq!(refused.0, r#"invalid secret name "../escape""#);
        assert!(
            !dir.path().join("escape.secret").exists(),
            "written outside the store"
        );
    }
}
