//! The built-in risk lexicon (`infra/seeds/risk_lexicon.json`) against labelled sentences:
//! - `risk_sentences.tsv` (#17): 70 sentences written alongside the first list, with levels;
//! - `risk_corpus_dev.tsv` (#31): the development part of a corpus written apart from the
//!   lexicon by a helper that never saw it; the patterns were written from this part;
//! - `risk_corpus_dev2.tsv` (#31): a second development part, written later by a third helper
//!   that saw neither the lexicon nor the other parts, once the first had been learnt by heart;
//! - `risk_corpus_heldout.tsv` (#31): the held-out part, written by another helper that saw
//!   neither the lexicon nor the development part, never read by whoever writes patterns: only
//!   its figures are printed, never its sentences.
//!
//! Prints precision and recall of "raises an alert" per part and recall per category (and, for
//! negatives, false alarms per kind); fails when a part falls under its floor, so that an edit
//! that loses ground is seen.

#[cfg(test)]
mod corpus {
    use std::collections::BTreeMap;

    use xinli_domain::risk::{Level, Lexicon, LexiconData};

    fn builtin() -> Lexicon {
        let data: LexiconData =
            serde_json::from_str(include_str!("../../infra/seeds/risk_lexicon.json")).unwrap();
        Lexicon::parse(data).unwrap()
    }

    /// One part of the corpus measured.
    #[derive(Default)]
    struct Figures {
        tp: u32,
        fp: u32,
        fn_: u32,
        tn: u32,
        /// Per category: (found, of).
        by_category: BTreeMap<String, (u32, u32)>,
        misses: Vec<String>,
    }

    impl Figures {
        fn precision(&self) -> f64 {
            f64::from(self.tp) / f64::from((self.tp + self.fp).max(1))
        }

        fn recall(&self) -> f64 {
            f64::from(self.tp) / f64::from((self.tp + self.fn_).max(1))
        }

        fn category_recall(&self, category: &str) -> f64 {
            let (found, of) = self.by_category[category];
            f64::from(found) / f64::from(of.max(1))
        }
    }

    /// Measures a `label<TAB>category<TAB>sentence` file; `show` keeps the sentences missed.
    fn measure(lexicon: &Lexicon, tsv: &str, show: bool) -> Figures {
        let mut f = Figures::default();
        for line in tsv.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut cols = line.splitn(3, '\t');
            let (label, category, sentence) = (
                cols.next().unwrap(),
                cols.next().unwrap(),
                cols.next().unwrap(),
            );
            let hit = lexicon.check(sentence);
            let risk = label == "risk";
            let entry = f.by_category.entry(category.to_owned()).or_default();
            entry.1 += 1;
            // For risk categories "found" counts hits; for negatives, false alarms.
            if hit.is_some() {
                entry.0 += 1;
            }
            match (risk, &hit) {
                (true, Some(_)) => f.tp += 1,
                (true, None) => {
                    f.fn_ += 1;
                    if show {
                        f.misses.push(format!("missed [{category}] {sentence}"));
                    }
                }
                (false, Some(h)) => {
                    f.fp += 1;
                    if show {
                        f.misses.push(format!(
                            "false alert [{category}] {:?} by {}: {sentence}",
                            h.level, h.phrase
                        ));
                    }
                }
                (false, None) => f.tn += 1,
            }
        }
        f
    }

    fn report(name: &str, f: &Figures, risk_categories: &[&str]) {
        println!(
            "{name}: {} sentences; precision {:.3} ({}/{}), recall {:.3} ({}/{})",
            f.tp + f.fp + f.fn_ + f.tn,
            f.precision(),
            f.tp,
            f.tp + f.fp,
            f.recall(),
            f.tp,
            f.tp + f.fn_,
        );
        for (category, (found, of)) in &f.by_category {
            let what = if risk_categories.contains(&category.as_str()) {
                "recall"
            } else {
                "false alarms"
            };
            println!("  {category:<15} {what} {found}/{of}");
        }
        for m in &f.misses {
            println!("    {m}");
        }
    }

    const RISK: [&str; 9] = [
        "wish",
        "method",
        "plan",
        "preparation",
        "farewell",
        "burden",
        "hopelessness",
        "self_harm",
        "present_danger",
    ];

    #[test]
    fn the_builtin_lexicon_on_the_corpus() {
        let lexicon = builtin();
        let dev = measure(&lexicon, include_str!("risk_corpus_dev.tsv"), true);
        report("development part", &dev, &RISK);
        let dev2 = measure(&lexicon, include_str!("risk_corpus_dev2.tsv"), true);
        report("second development part", &dev2, &RISK);
        // The held-out part: figures only.
        let held = measure(&lexicon, include_str!("risk_corpus_heldout.tsv"), false);
        report("held-out part", &held, &RISK);
        for (name, f) in [
            ("development", &dev),
            ("second development", &dev2),
            ("held-out", &held),
        ] {
            assert!(
                f.tp + f.fn_ >= 170 && f.fp + f.tn >= 170,
                "{name}: too small"
            );
        }
        // Floors at what the list reaches today (#31 is not done: its target on the held-out
        // part is 0.9 / 0.9 with every category at 0.8), so that an edit that loses ground
        // fails.
        let floor = |name: &str, f: &Figures, precision: f64, recall: f64| {
            assert!(
                f.precision() >= precision && f.recall() >= recall,
                "{name}: precision {:.3} (floor {precision}), recall {:.3} (floor {recall})",
                f.precision(),
                f.recall()
            );
        };
        floor("development part", &dev, 0.95, 0.95);
        floor("second development part", &dev2, 0.9, 0.95);
        floor("held-out part", &held, 0.83, 0.67);
        for c in RISK {
            assert!(
                held.category_recall(c) >= 0.55,
                "held-out {c}: {:.3}",
                held.category_recall(c)
            );
        }
    }

    /// The set written with the first list (#17) still holds, levels included.
    #[test]
    fn the_builtin_lexicon_on_the_first_labelled_set() {
        let lexicon = builtin();
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
            "first set: {} sentences; precision {precision:.3} ({tp}/{}), recall {recall:.3} \
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
        // Three of its risk sentences are no alert since #31: two negated ("我不会自杀的，放心")
        // and one about a friend, which both parts of the #31 corpus label as not at risk.
        assert!(recall >= 0.9, "recall {recall:.3}: {misses:?}");
        assert!(same_level * 10 >= tp * 8, "levels: {misses:?}");
    }
}
