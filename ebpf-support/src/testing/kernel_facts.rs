//! Facts read from the kernel itself (prog and map info), never from an example's own output.

use std::collections::BTreeSet;

/// How many of `programs` use each map, by map id: programs that share a map show up
/// with a count above one.
pub fn programs_per_map(programs: &BTreeSet<u32>) -> std::collections::BTreeMap<u32, usize> {
    use libbpf_rs::query::{ProgInfoIter, ProgInfoQueryOptions};
    let mut per_map = std::collections::BTreeMap::new();
    for info in ProgInfoIter::with_query_opts(ProgInfoQueryOptions::default().include_map_ids(true))
    {
        if programs.contains(&info.id) {
            for map in info.map_ids {
                *per_map.entry(map).or_insert(0) += 1;
            }
        }
    }
    per_map
}

/// The kernel's own record of what type each of `programs` is, in id order.
pub fn program_types(programs: &BTreeSet<u32>) -> Vec<libbpf_rs::ProgramType> {
    use libbpf_rs::query::ProgInfoIter;
    let mut found: Vec<(u32, libbpf_rs::ProgramType)> = ProgInfoIter::default()
        .filter(|info| programs.contains(&info.id))
        .map(|info| (info.id, info.ty))
        .collect();
    found.sort_by_key(|(id, _)| *id);
    found.into_iter().map(|(_, ty)| ty).collect()
}

/// The kernel's own record of what type each of `maps` is, in id order.
pub fn map_types(maps: &BTreeSet<u32>) -> Vec<libbpf_rs::MapType> {
    use libbpf_rs::query::MapInfoIter;
    let mut found: Vec<(u32, libbpf_rs::MapType)> = MapInfoIter::default()
        .filter(|info| maps.contains(&info.id))
        .map(|info| (info.id, info.ty))
        .collect();
    found.sort_by_key(|(id, _)| *id);
    found.into_iter().map(|(_, ty)| ty).collect()
}

/// The id of the map called `name` among `maps`.
pub fn map_named(maps: &BTreeSet<u32>, name: &str) -> Option<u32> {
    use libbpf_rs::query::MapInfoIter;
    MapInfoIter::default()
        .find(|info| maps.contains(&info.id) && info.name.to_string_lossy() == name)
        .map(|info| info.id)
}
