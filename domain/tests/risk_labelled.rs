//! The built-in risk lexicon (`infra/seeds/risk_lexicon.json`) against a labelled set written
//! for it (`risk_sentences.tsv`: 35 risk statements, 35 tricky negatives). Prints precision and
//! recall of "raises an alert", and how many hits have the level a human gave; fails when
//! either falls under what the list reaches today, so that an edit that loses ground is seen.

use xinli_domain::risk::{Level, Lexicon, Phrase};

#[derive(serde::Deserialize)]
struct Seed {
    phrases: Vec<Phrase>,
    negations: Vec<String>,
    exclusions: Vec<String>,
}

#[test]
fn the_builtin_lexicon_on_the_labelled_set() {
    let seed: Seed =
        serde_json::from_str(include_str!("../../infra/seeds/risk_lexicon.json")).unwrap();
    let lexicon = Lexicon::parse(seed.phrases, seed.negations, seed.exclusions).unwrap();
    let (mut tp, mut fp, mut fn_, mut tn, mut same_level) = (0, 0, 0, 0, 0);
    let mut misses = vec![];
    for line in include_str!("risk_sentences.tsv").lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (label, sentence) = line.split_once('\t').unwrap();
        let expected = match label {
            "none" => None,
            l => Some(Level::parse(l).unwrap()),
        };
        let got = lexicon.check(sentence).map(|h| h.level);
        match (expected, got) {
            (Some(e), Some(g)) => {
                tp += 1;
                if e == g {
                    same_level += 1;
                } else {
                    misses.push(format!("level {g:?} for {e:?}: {sentence}"));
                }
            }
            (None, Some(g)) => {
                fp += 1;
                misses.push(format!("false alert {g:?}: {sentence}"));
            }
            (Some(e), None) => {
                fn_ += 1;
                misses.push(format!("missed {e:?}: {sentence}"));
            }
            (None, None) => tn += 1,
        }
    }
    let precision = f64::from(tp) / f64::from(tp + fp);
    let recall = f64::from(tp) / f64::from(tp + fn_);
    println!(
        "risk lexicon: {} sentences; precision {precision:.3} ({tp}/{}), recall {recall:.3} \
         ({tp}/{}), right level {same_level}/{tp}, true negatives {tn}",
        tp + fp + fn_ + tn,
        tp + fp,
        tp + fn_,
    );
    for m in &misses {
        println!("  {m}");
    }
    assert!(tp + fp + fn_ + tn >= 60);
    assert!(precision >= 0.95, "precision {precision:.3}: {misses:?}");
    assert!(recall >= 0.95, "recall {recall:.3}: {misses:?}");
    assert!(same_level * 10 >= tp * 9, "levels: {misses:?}");
}
