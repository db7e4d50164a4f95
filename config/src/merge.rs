//! Deep merge of TOML tables and key-path helpers.

use toml::{Table, Value};

/// How an overlay's empty table is merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EmptyTable {
    /// Merges like any table (changes nothing).
    Merge,
    /// Replaces the base value (`-c mcp_servers={}` clears the map).
    Replace,
}

/// Merge `overlay` into `base`: tables merge recursively, everything else (arrays included) is
/// replaced.
pub(crate) fn merge_tables(base: &mut Table, overlay: &Table, empty: EmptyTable) {
    for (key, value) in overlay {
        match (base.get_mut(key), value) {
            (Some(Value::Table(base_table)), Value::Table(overlay_table))
                if !(overlay_table.is_empty() && empty == EmptyTable::Replace) =>
            {
                merge_tables(base_table, overlay_table, empty);
            }
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// The value at a key path.
pub(crate) fn get_path<'a>(table: &'a Table, path: &[String]) -> Option<&'a Value> {
    let (last, parents) = path.split_last()?;
    let mut current = table;
    for segment in parents {
        current = current.get(segment)?.as_table()?;
    }
    current.get(last)
}

/// Set the value at a key path, creating (or replacing non-table) parents.
pub(crate) fn set_path(table: &mut Table, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = table;
    for segment in parents {
        let entry = current
            .entry(segment.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(inner) = entry else {
            return;
        };
        current = inner;
    }
    current.insert(last.clone(), value);
}

/// Every leaf key path (non-table values and empty tables), in key order.
pub(crate) fn leaf_paths(table: &Table) -> Vec<Vec<String>> {
    fn walk(table: &Table, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        for (key, value) in table {
            prefix.push(key.clone());
            match value {
                Value::Table(inner) if !inner.is_empty() => walk(inner, prefix, out),
                _ => out.push(prefix.clone()),
            }
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    walk(table, &mut Vec::new(), &mut out);
    out
}

/// Split a dotted key into segments.
pub(crate) fn key_path(dotted: &str) -> Vec<String> {
    dotted.split('.').map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn tables_merge_deeply_scalars_and_arrays_replace() {
        let mut base = table("a = 1\nlist = [1, 2]\n[t]\nx = 1\ny = 2\n[t.inner]\nz = 1");
        let overlay = table("list = [3]\n[t]\ny = 20\n[t.inner]\nw = 2");
        merge_tables(&mut base, &overlay, EmptyTable::Merge);
        assert_eq!(
            base,
            table("a = 1\nlist = [3]\n[t]\nx = 1\ny = 20\n[t.inner]\nz = 1\nw = 2")
        );
    }

    #[test]
    fn scalar_replaces_table_and_table_replaces_scalar() {
        let mut base = table("a = 1\n[b]\nx = 1");
        merge_tables(&mut base, &table("b = 2\n[a]\ny = 1"), EmptyTable::Merge);
        assert_eq!(base, table("b = 2\n[a]\ny = 1"));
    }

    #[test]
    fn empty_table_clears_only_when_asked() {
        let mut base = table("[mcp_servers.docs]\ncommand = 'x'");
        merge_tables(&mut base, &table("mcp_servers = {}"), EmptyTable::Merge);
        assert_eq!(base, table("[mcp_servers.docs]\ncommand = 'x'"));
        merge_tables(&mut base, &table("mcp_servers = {}"), EmptyTable::Replace);
        assert_eq!(base, table("mcp_servers = {}"));
    }

    #[test]
    fn paths() {
        let mut base = table("a = 1\n[t]\nx = 1\ne = {}");
        assert_eq!(get_path(&base, &key_path("t.x")), Some(&Value::Integer(1)));
        assert_eq!(get_path(&base, &key_path("a.x")), None);
        set_path(&mut base, &key_path("a.b"), Value::Integer(2));
        assert_eq!(get_path(&base, &key_path("a.b")), Some(&Value::Integer(2)));
        assert_eq!(
            leaf_paths(&base),
            vec![key_path("a.b"), key_path("t.e"), key_path("t.x")]
        );
    }
}
