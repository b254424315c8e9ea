//! Small cells: what a unit or an admin may see of counts about people (#30).
//!
//! One rule for every figure that counts people: a unit's screening report hides counts
//! below 10 ([`crate::screening::MIN_CELL`]); admins' figures hide counts below
//! [`ADMIN_MIN`]. Counts that split one total (by status, by band, crisis or not) go through
//! [`disclose`], which also hides what would let a hidden cell be computed back; a rate is
//! shown only over at least [`ADMIN_MIN`] answers.

/// Admins' figures hide cells about fewer people than this.
pub const ADMIN_MIN: u64 = 5;

/// What the rule lets a reader see of counts that split one total: the total and each cell,
/// `None` where hidden.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Disclosure {
    pub total: Option<u64>,
    pub cells: Vec<Option<u64>>,
}

/// The disclosure rule, at threshold `min`. Nothing when the total is below `min`. Otherwise a
/// count from 1 to `min - 1` is hidden, and beside a hidden count the zeros are hidden too (a
/// zero shown next to hidden cells narrows what they can be). Then, until the hidden cells are
/// at least two, add up to `min` or more (that sum is the total minus what is shown), and are
/// not all small counts adding up to `min - 1` each (which would pin every one of them), the
/// smallest shown count is hidden as well, together with every shown count equal to it (a tie
/// left shown would bound the hidden one). A test over every combination of up to 40 people in
/// 4 cells (and 25 in 2, 3 and 5) checks at 10 and at 5 that no hidden cell's value follows
/// from what is shown and the rule itself; the rule was chosen by running that check on
/// candidates.
pub fn disclose(counts: &[u64], min: u64) -> Disclosure {
    let total: u64 = counts.iter().sum();
    if total < min {
        return Disclosure {
            total: None,
            cells: vec![None; counts.len()],
        };
    }
    let small = |c: u64| (1..min).contains(&c);
    let mut hidden: Vec<bool> = counts.iter().map(|c| small(*c)).collect();
    if hidden.contains(&true) {
        for (h, c) in hidden.iter_mut().zip(counts) {
            *h |= *c == 0;
        }
        loop {
            let hidden_counts = || {
                counts
                    .iter()
                    .zip(&hidden)
                    .filter(|(_, h)| **h)
                    .map(|(c, _)| *c)
            };
            let cells = hidden_counts().count() as u64;
            let sum: u64 = hidden_counts().sum();
            let all_pinned = sum >= (min - 1) * cells && hidden_counts().all(|c| c < min);
            if cells >= 2 && sum >= min && !all_pinned {
                break;
            }
            let Some(smallest) = counts
                .iter()
                .zip(&hidden)
                .filter(|(_, h)| !**h)
                .map(|(c, _)| *c)
                .min()
            else {
                break;
            };
            for (h, c) in hidden.iter_mut().zip(counts) {
                *h |= *c == smallest;
            }
        }
    }
    Disclosure {
        total: Some(total),
        cells: counts
            .iter()
            .zip(&hidden)
            .map(|(c, h)| (!h).then_some(*c))
            .collect(),
    }
}

/// Labelled counts that split one total, as an admin may see them (`None`: hidden).
pub fn admin_cells<K: Clone>(counts: &[(K, u64)]) -> Vec<(K, Option<u64>)> {
    let d = disclose(
        &counts.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        ADMIN_MIN,
    );
    counts
        .iter()
        .zip(d.cells)
        .map(|((k, _), shown)| (k.clone(), shown))
        .collect()
}

/// A share of `of` answers, four decimals; `None` over fewer than [`ADMIN_MIN`] answers (one
/// person's answer would show in it).
pub fn admin_rate(hits: u64, of: u64) -> Option<f64> {
    (of >= ADMIN_MIN).then(|| (hits as f64 / of as f64 * 10_000.0).round() / 10_000.0)
}

/// A part of a total, as an admin may see it: hidden with the rest when either side is
/// small (`disclose` over `[part, total - part]`).
pub fn admin_part(part: u64, total: u64) -> Option<u64> {
    disclose(&[part, total.saturating_sub(part)], ADMIN_MIN).cells[0]
}

/// A count that stands alone (not a part of a total shown beside it): hidden from 1 to
/// [`ADMIN_MIN`] - 1.
pub fn admin_count(n: u64) -> Option<u64> {
    (n == 0 || n >= ADMIN_MIN).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every way up to `max` people fall into `cells` cells.
    fn all_counts(cells: usize, max: u64) -> Vec<Vec<u64>> {
        let mut out = vec![vec![]];
        for _ in 0..cells {
            out = out
                .into_iter()
                .flat_map(|prefix: Vec<u64>| {
                    let used: u64 = prefix.iter().sum();
                    (0..=max - used).map(move |c| {
                        let mut v = prefix.clone();
                        v.push(c);
                        v
                    })
                })
                .collect();
        }
        out
    }

    /// An attacker who knows the rule and reads one report: for every report, the cells it
    /// hides must each have at least two values among the counts that give that same report.
    /// Checked at both thresholds over every combination of up to 40 people in 4 cells
    /// (135,751), and up to 25 in 2, 3 and 5 cells.
    #[test]
    fn no_hidden_cell_follows_from_what_is_shown() {
        for min in [crate::screening::MIN_CELL, ADMIN_MIN] {
            for (cells, max) in [(4, 40), (2, 25), (3, 25), (5, 25)] {
                let mut seen: std::collections::HashMap<Disclosure, Vec<(u64, u64)>> =
                    Default::default();
                for counts in &all_counts(cells, max) {
                    let d = disclose(counts, min);
                    assert_eq!(d.cells.len(), cells);
                    for (c, shown) in counts.iter().zip(&d.cells) {
                        assert!(shown.is_none_or(|v| v == *c), "{counts:?} shown as {d:?}");
                        if shown.is_some() && *c > 0 {
                            assert!(*c >= min, "{counts:?}: a small count shown at {min}");
                        }
                    }
                    let range = seen.entry(d).or_insert_with(|| vec![(u64::MAX, 0); cells]);
                    for (r, c) in range.iter_mut().zip(counts) {
                        *r = (r.0.min(*c), r.1.max(*c));
                    }
                }
                for (d, range) in &seen {
                    for (i, (shown, (lo, hi))) in d.cells.iter().zip(range).enumerate() {
                        if shown.is_none() {
                            assert!(
                                lo < hi,
                                "at {min}, {cells} cells: cell {i} of {d:?} is always {lo}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn admin_figures_hide_what_is_about_fewer_than_five() {
        assert_eq!(admin_part(2, 40), None);
        assert_eq!(admin_part(0, 40), Some(0));
        assert_eq!(admin_part(7, 40), Some(7));
        assert_eq!(admin_part(38, 40), None, "the other side is 2");
        assert_eq!(admin_rate(3, 4), None);
        assert_eq!(admin_rate(4, 5), Some(0.8));
        assert_eq!(admin_count(3), None);
        assert_eq!(admin_count(0), Some(0));
        let cells = admin_cells(&[("closed", 120), ("cancelled", 3), ("expired", 0)]);
        assert_eq!(
            cells,
            [("closed", None), ("cancelled", None), ("expired", None)]
        );
    }
}
