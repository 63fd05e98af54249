//! OpenStreetMap import (`--osm`): the shared Monaco extract imports with
//! the counts its README gives; a truncated file and a corrupt blob are
//! errors naming the file and the blob; relations whose members the
//! extract lacks are skipped and counted; its quarters become districts.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use citytwin::geo::osm::{AdminLevels, OsmError, OsmOptions, import_osm};

const MONACO: &str = "osm/monaco-2025-02-15.osm.pbf";

#[test]
fn the_shared_extract_imports_with_the_counts_its_readme_gives() {
    let path = common::shared_data(MONACO);
    let mut stages = Vec::new();
    let import = import_osm(&path, &OsmOptions::default(), &mut |p| {
        stages.push((p.stage, p.done, p.total))
    })
    .expect("import");
    let c = &import.counts;
    // ../shared/data/README.md: 39,587 nodes, 5,777 ways, 309 relations;
    // 1,576 building ways + 31 building relations, 501 with height or
    // building:levels (492 levels, 44 height); 21 administrative relations.
    assert_eq!((c.nodes, c.ways, c.relations), (39_587, 5_777, 309));
    assert_eq!((c.building_ways, c.building_relations), (1_576, 31));
    assert_eq!(
        (c.with_height_or_levels, c.with_levels, c.with_height),
        (501, 492, 44)
    );
    assert_eq!(
        c.admin_relations,
        BTreeMap::from([(2, 3), (3, 1), (4, 1), (6, 1), (7, 1), (8, 5), (10, 9)])
    );
    // Monaco (levels 2 and 8) and its quarters are whole; the French outer
    // levels are partial, skipped and counted with the first missing way.
    assert_eq!(c.admin_complete, BTreeMap::from([(2, 1), (8, 1), (10, 9)]));
    let (missing, first) = &c.skipped["a relation whose member ways the extract lacks"];
    assert!(*missing >= 10, "{missing}");
    assert!(
        first.starts_with("relation ") && first.contains("(way "),
        "{first}"
    );
    // Buildings: every building way and multipolygon, heights from the
    // tags, the OSM element as the code.
    assert!(import.buildings.buildings.len() >= 1_576);
    assert!(import.buildings.buildings.iter().all(|b| {
        b.from_osm
            && b.source_code
                .as_deref()
                .is_some_and(|c| c.starts_with("OSM-"))
    }));
    let from_levels = import
        .buildings
        .buildings
        .iter()
        .filter(|b| b.height_source == citytwin::geo::geojson::HeightSource::Levels)
        .count();
    assert!(from_levels > 400, "{from_levels}");
    assert!(c.water_areas > 0);
    // Auto: the coarsest level that splits the buildings is the quarters'.
    assert_eq!(import.district_level, Some(10));
    let (districts, streets) = import.area_reports();
    assert_eq!(districts.expect("districts").areas.len(), 9);
    assert!(streets.is_none());
    // Progress: decoding then assembling, ending complete.
    assert_eq!(stages.first().map(|s| s.0), Some("decoding"));
    let last = stages.last().expect("stages");
    assert_eq!((last.0, last.1), ("assembling", last.2));

    // Levels by option: Monaco's commune as the district, its quarters as
    // streets.
    let fixed = import_osm(
        &path,
        &OsmOptions {
            admin_levels: "8,10".parse::<AdminLevels>().expect("levels"),
            ..OsmOptions::default()
        },
        &mut |_| {},
    )
    .expect("import");
    assert_eq!(
        (fixed.district_level, fixed.street_level),
        (Some(8), Some(10))
    );
    assert!("13".parse::<AdminLevels>().is_err());
}

#[test]
fn a_truncated_file_and_a_corrupt_blob_name_the_file_and_the_blob() {
    let bytes = std::fs::read(common::shared_data(MONACO)).expect("read");
    let dir = common::output_path("osm");
    std::fs::create_dir_all(&dir).expect("dir");

    let cut = dir.join("cut.osm.pbf");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).expect("write");
    let error = import_osm(&cut, &OsmOptions::default(), &mut |_| {}).expect_err("truncated");
    assert!(
        matches!(error, OsmError::Truncated { blob, .. } if blob > 0),
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.contains("cut.osm.pbf is truncated: blob ") && text.contains("the file ends after"),
        "{text}"
    );

    // Garbage over the middle of the file: inside some blob's compressed
    // data.
    let mut bad = bytes.clone();
    let at = bytes.len() / 2;
    for (k, b) in bad[at..at + 400].iter_mut().enumerate() {
        *b ^= 0x5a ^ (k as u8);
    }
    let corrupt = dir.join("corrupt.osm.pbf");
    std::fs::write(&corrupt, &bad).expect("write");
    let error = import_osm(&corrupt, &OsmOptions::default(), &mut |_| {}).expect_err("corrupt");
    let OsmError::CorruptBlob { blob, offset, .. } = &error else {
        panic!("not a corrupt blob: {error}");
    };
    assert!(*blob > 0 && *offset <= at as u64, "{error}");
    assert!(
        error.to_string().starts_with(&format!(
            "{}: blob {blob} at byte {offset} is corrupt: ",
            corrupt.display()
        )),
        "{error}"
    );

    let empty = dir.join("empty.osm.pbf");
    std::fs::write(&empty, b"").expect("write");
    let error = import_osm(&empty, &OsmOptions::default(), &mut |_| {}).expect_err("empty");
    assert!(
        error
            .to_string()
            .contains("is not an OpenStreetMap PBF file"),
        "{error}"
    );
    let error = import_osm(
        &dir.join("none.osm.pbf"),
        &OsmOptions::default(),
        &mut |_| {},
    )
    .expect_err("missing");
    assert!(error.to_string().starts_with("cannot read "), "{error}");
}

#[test]
fn render_opens_the_extract_with_its_quarters_as_districts() {
    let out = common::output_path("monaco.png");
    let run = Command::new(env!("CARGO_BIN_EXE_citytwin"))
        .args(["render", "--osm"])
        .arg(common::shared_data(MONACO))
        .args(["--size", "640x360", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("39587 nodes, 5777 ways, 309 relations"),
        "{stderr}"
    );
    assert!(stderr.contains("districts from admin_level 10"), "{stderr}");
    assert!(
        stderr.contains("skipped — a relation whose member ways the extract lacks"),
        "{stderr}"
    );
    let image = image::open(&out).expect("png").to_rgba8();
    // Buildings and the quarters' boundary lines are there.
    let line = image
        .pixels()
        .filter(|p| p.0[2] > 150 && p.0[2] > p.0[0] + 80 && p.0[1] > 100)
        .count();
    assert!(line > 500, "{line} boundary pixels");
}
