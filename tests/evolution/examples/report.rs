//! Prints each case (or the cases whose name contains the argument) with its labels and what
//! `twinwire breaking` reports for it.
use twinwire_evolution::{Label, cases};

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let label = |l: Label| match l {
        Label::Breaking => "breaking",
        Label::Compatible => "compatible",
    };
    for case in cases::all().iter().filter(|c| c.name.contains(&filter)) {
        println!(
            "== {}: {} (old clients/new server: {}, new clients/old server: {})",
            case.name,
            case.about,
            label(case.old_clients_new_server),
            label(case.new_clients_old_server)
        );
        print!(
            "{}",
            twinwire_codegen::compare(&case.old.manifest, &case.new.manifest)
        );
    }
}
