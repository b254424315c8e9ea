//! Risk-word check benchmark (#31): how long `Lexicon::check` takes on a 500-character
//! message with the built-in lexicon, next to the same check with a lexicon of only the first
//! #17 entries (its size then) in the same run, so that a noisy machine shows in both lines.
//!
//! `cargo run --release -p xinli-tests --bin bench_risk`. Messages are built from the corpus
//! sentences of `domain/tests/` (risk and everyday ones mixed, cut to 500 characters), each
//! checked `ROUNDS` times (default 200) in turn. Prints p50 / p99 / max; asserts nothing.

use std::time::{Duration, Instant};

use xinli_domain::risk::{Lexicon, LexiconData};
use xinli_tests::quantile;

fn sentences() -> Vec<&'static str> {
    [
        include_str!("../../../domain/tests/risk_corpus_dev.tsv"),
        include_str!("../../../domain/tests/risk_sentences.tsv"),
    ]
    .iter()
    .flat_map(|f| f.lines())
    .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    .filter_map(|l| l.rsplit('\t').next())
    .collect()
}

/// Messages of exactly 500 characters, each from a different run of sentences.
fn messages(n: usize) -> Vec<String> {
    let all = sentences();
    (0..n)
        .map(|i| {
            let mut m = String::new();
            let mut j = i * 7;
            while m.chars().count() < 500 {
                m.push_str(all[j % all.len()]);
                m.push('。');
                j += 13;
            }
            m.chars().take(500).collect()
        })
        .collect()
}

fn measure(name: &str, lexicon: &Lexicon, messages: &[String], rounds: usize) {
    let mut took = Vec::with_capacity(messages.len() * rounds);
    let mut hits = 0usize;
    for _ in 0..rounds {
        for m in messages {
            let t = Instant::now();
            let hit = lexicon.check(m);
            took.push(t.elapsed());
            hits += usize::from(hit.is_some());
        }
    }
    took.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "| {name} | {} | {:.1} | {:.1} | {:.1} | {} |",
        lexicon.phrases.len(),
        us(quantile(&took, 0.5)),
        us(quantile(&took, 0.99)),
        us(*took.last().unwrap_or(&Duration::ZERO)),
        took.len(),
    );
    assert!(hits > 0, "the messages hold risk sentences");
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200);
    let data: LexiconData =
        serde_json::from_str(include_str!("../../../infra/seeds/risk_lexicon.json"))
            .expect("built-in lexicon");
    let full = Lexicon::parse(data.clone()).expect("built-in lexicon parses");
    let mut small = data;
    small.phrases.truncate(68);
    small.exclusions.truncate(18);
    let small = Lexicon::parse(small).expect("small lexicon parses");
    let messages = messages(100);
    println!("| lexicon | entries | p50 µs | p99 µs | max µs | checks |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for _ in 0..2 {
        measure("68 entries (the #17 size)", &small, &messages, rounds);
        measure("built-in (#31)", &full, &messages, rounds);
    }
}
