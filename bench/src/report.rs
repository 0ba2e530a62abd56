//! What a benchmark case reports: tables of medians with their spread, each row's ratio to the
//! table's baseline row, and the targets the project holds itself to. Rendered as Markdown (for
//! the terminal and the book's appendix) and as JSON.

use serde_json::{Value as Json, json};

/// A measured quantity: the median of its samples, and the 25th and 75th percentiles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Value {
    pub median: f64,
    pub low: f64,
    pub high: f64,
    pub samples: usize,
}

impl Value {
    /// The median and quartiles of `samples` (which must not be empty).
    pub fn of(samples: &[f64]) -> Value {
        assert!(!samples.is_empty(), "a value needs at least one sample");
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        Value {
            median: percentile(&sorted, 0.5),
            low: percentile(&sorted, 0.25),
            high: percentile(&sorted, 0.75),
            samples: sorted.len(),
        }
    }

    /// One measurement with no spread (a count over a whole run, say).
    pub fn single(x: f64) -> Value {
        Value::of(&[x])
    }
}

/// Linear interpolation between the closest ranks, as most tools compute percentiles.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = p * (sorted.len() - 1) as f64;
    let (below, above) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[below] + (sorted[above] - sorted[below]) * (rank - below as f64)
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unit {
    Milliseconds,
    Nanoseconds,
    PerSecond,
    Count,
    Percent,
}

impl Unit {
    fn symbol(self) -> &'static str {
        match self {
            Unit::Milliseconds => "ms",
            Unit::Nanoseconds => "ns",
            Unit::PerSecond => "/s",
            Unit::Count => "",
            Unit::Percent => "%",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Unit::Milliseconds => "ms",
            Unit::Nanoseconds => "ns",
            Unit::PerSecond => "per_second",
            Unit::Count => "count",
            Unit::Percent => "percent",
        }
    }

    /// `12.3 ms`, `1.25 M/s`, `840`.
    fn show(self, x: f64) -> String {
        match self {
            Unit::PerSecond | Unit::Count => {
                let (scale, prefix) = Self::prefix(x);
                let scaled = x / scale;
                let digits = if prefix.is_empty() && scaled.fract() == 0.0 {
                    0
                } else {
                    3
                };
                let number = significant(scaled, digits);
                match (prefix, self) {
                    ("", Unit::Count) => number,
                    _ => format!("{number} {prefix}{}", self.symbol()).replace("  ", " "),
                }
            }
            _ => format!("{} {}", significant(x, 3), self.symbol()),
        }
    }
}

impl Unit {
    /// The divisor and SI prefix that counts and rates are shown with.
    fn prefix(x: f64) -> (f64, &'static str) {
        match x.abs() {
            a if a >= 1e9 => (1e9, "G"),
            a if a >= 1e6 => (1e6, "M"),
            a if a >= 1e4 => (1e3, "k"),
            _ => (1.0, ""),
        }
    }

    /// The quartiles, scaled as the median is shown: `(1.99–2.77)` beside `2.52 M/s`.
    fn show_spread(self, median: f64, low: f64, high: f64) -> String {
        let scale = match self {
            Unit::PerSecond | Unit::Count => Self::prefix(median).0,
            _ => 1.0,
        };
        format!(
            "({}–{})",
            significant(low / scale, 3),
            significant(high / scale, 3)
        )
    }
}

/// `x` with about `digits` significant digits (no exponent).
fn significant(x: f64, digits: usize) -> String {
    if digits == 0 || x == 0.0 {
        return format!("{x:.0}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    format!("{x:.decimals$}")
}

#[derive(Clone, Debug)]
pub struct Column {
    pub title: String,
    pub unit: Unit,
}

impl Column {
    pub fn new(title: &str, unit: Unit) -> Column {
        Column {
            title: title.to_string(),
            unit,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Row {
    pub label: String,
    /// One per column; `None` where this row has nothing to show.
    pub values: Vec<Option<Value>>,
}

impl Row {
    pub fn new(label: impl Into<String>, values: Vec<Option<Value>>) -> Row {
        Row {
            label: label.into(),
            values,
        }
    }
}

/// Which row is the baseline, and which column the ratio is taken on.
#[derive(Clone, Copy, Debug)]
pub struct Ratio {
    pub column: usize,
    pub baseline: usize,
    /// Throughput: more is better. Latency and cost: less is better.
    pub higher_is_better: bool,
}

impl Ratio {
    /// Ratios on `column` to the table's first row, where the baseline usually is.
    pub fn to_first_row(column: usize, higher_is_better: bool) -> Ratio {
        Ratio {
            column,
            baseline: 0,
            higher_is_better,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Table {
    pub title: String,
    /// What the rows are (the first column's heading).
    pub row_heading: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub ratio: Option<Ratio>,
    /// Sentences printed under the table: what was measured, and how.
    pub notes: Vec<String>,
}

impl Table {
    /// Each row's ratio to the baseline on the ratio column.
    pub fn ratios(&self) -> Vec<Option<f64>> {
        let Some(ratio) = self.ratio else {
            return vec![None; self.rows.len()];
        };
        let value = |row: &Row| row.values.get(ratio.column).copied().flatten();
        let base = self.rows.get(ratio.baseline).and_then(value);
        self.rows
            .iter()
            .map(|row| match (value(row), base) {
                (Some(v), Some(b)) if b.median != 0.0 => Some(v.median / b.median),
                _ => None,
            })
            .collect()
    }

    /// The table's ratio for the row labelled `label`.
    pub fn ratio_of(&self, label: &str) -> Option<f64> {
        let index = self.rows.iter().position(|r| r.label == label)?;
        self.ratios()[index]
    }

    pub fn markdown(&self) -> String {
        let mut out = format!("**{}**\n\n", self.title);
        let mut heading = vec![self.row_heading.clone()];
        heading.extend(self.columns.iter().map(|c| c.title.clone()));
        if let Some(ratio) = self.ratio {
            let direction = if ratio.higher_is_better {
                "higher is better"
            } else {
                "lower is better"
            };
            heading.push(format!(
                "ratio of {} to {} ({direction})",
                self.columns[ratio.column].title,
                self.rows
                    .get(ratio.baseline)
                    .map_or("?", |r| r.label.as_str())
            ));
        }
        out.push_str(&format!("| {} |\n", heading.join(" | ")));
        out.push_str(&format!(
            "|{}\n",
            heading
                .iter()
                .enumerate()
                .map(|(i, _)| if i == 0 { " --- |" } else { " ---: |" })
                .collect::<String>()
        ));
        for (row, ratio) in self.rows.iter().zip(self.ratios()) {
            let mut cells = vec![row.label.clone()];
            for (column, value) in self.columns.iter().zip(&row.values) {
                cells.push(match value {
                    None => "–".to_string(),
                    Some(v) if v.samples > 1 && v.high > v.low => format!(
                        "{} {}",
                        column.unit.show(v.median),
                        column.unit.show_spread(v.median, v.low, v.high)
                    ),
                    Some(v) => column.unit.show(v.median),
                });
            }
            if self.ratio.is_some() {
                cells.push(ratio.map_or("–".into(), |r| format!("{r:.2}×")));
            }
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        for note in &self.notes {
            out.push_str(&format!("\n{note}\n"));
        }
        out
    }

    pub fn json(&self) -> Json {
        let ratios = self.ratios();
        json!({
            "title": self.title,
            "row_heading": self.row_heading,
            "columns": self.columns.iter().map(|c| json!({"title": c.title, "unit": c.unit.name()})).collect::<Vec<_>>(),
            "rows": self.rows.iter().zip(&ratios).map(|(row, ratio)| json!({
                "label": row.label,
                "values": row.values.iter().map(|v| v.map(|v| json!({
                    "median": v.median, "p25": v.low, "p75": v.high, "samples": v.samples,
                }))).collect::<Vec<_>>(),
                "ratio": ratio,
            })).collect::<Vec<_>>(),
            "ratio": self.ratio.map(|r| json!({
                "column": self.columns[r.column].title,
                "baseline": self.rows.get(r.baseline).map(|row| row.label.clone()),
                "higher_is_better": r.higher_is_better,
            })),
            "notes": self.notes,
        })
    }
}

/// A ratio the project promises, with its limit.
#[derive(Clone, Debug)]
pub struct Target {
    /// `Rust loader's time to attach / C loader's`.
    pub name: String,
    pub ratio: f64,
    pub limit: f64,
    /// The ratio must be at most the limit (a cost), or at least it (a speed).
    pub at_most: bool,
}

impl Target {
    pub fn met(&self) -> bool {
        if self.at_most {
            self.ratio <= self.limit
        } else {
            self.ratio >= self.limit
        }
    }

    pub fn line(&self) -> String {
        let sign = if self.at_most { "≤" } else { "≥" };
        let verdict = if self.met() { "met" } else { "NOT met" };
        format!(
            "{}: {:.3}× (target {sign} {:.2}×): {verdict}",
            self.name, self.ratio, self.limit
        )
    }

    pub fn json(&self) -> Json {
        json!({"name": self.name, "ratio": self.ratio, "limit": self.limit,
               "at_most": self.at_most, "met": self.met()})
    }
}

/// What one case found.
#[derive(Clone, Debug, Default)]
pub struct CaseResult {
    pub tables: Vec<Table>,
    pub targets: Vec<Target>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_quartiles() {
        let v = Value::of(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((v.median, v.low, v.high, v.samples), (3.0, 2.0, 4.0, 5));
        let even = Value::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(even.median, 2.5);
    }

    #[test]
    fn ratios_are_to_the_baseline_row() {
        let table = Table {
            title: "t".into(),
            row_heading: "loader".into(),
            columns: vec![Column::new("attach", Unit::Milliseconds)],
            rows: vec![
                Row::new("C", vec![Some(Value::single(10.0))]),
                Row::new("Rust", vec![Some(Value::single(11.0))]),
                Row::new("none", vec![None]),
            ],
            ratio: Some(Ratio {
                column: 0,
                baseline: 0,
                higher_is_better: false,
            }),
            notes: vec![],
        };
        let ratios = table.ratios();
        assert_eq!(ratios[0], Some(1.0));
        assert!((ratios[1].unwrap() - 1.1).abs() < 1e-12);
        assert_eq!(ratios[2], None);
        let markdown = table.markdown();
        assert!(
            markdown.contains("| Rust | 11.0 ms | 1.10× |"),
            "{markdown}"
        );
        assert!(markdown.contains("| none | – | – |"), "{markdown}");
    }

    #[test]
    fn units_read_naturally() {
        assert_eq!(Unit::PerSecond.show(1_250_000.0), "1.25 M/s");
        assert_eq!(Unit::Count.show(840.0), "840");
        assert_eq!(Unit::Count.show(12_000.0), "12.0 k");
        assert_eq!(Unit::Nanoseconds.show(28.44), "28.4 ns");
        assert_eq!(Unit::Milliseconds.show(0.512), "0.512 ms");
        assert_eq!(
            Unit::PerSecond.show_spread(2.52e8, 1.99e8, 2.77e8),
            "(199–277)"
        );
    }

    #[test]
    fn a_target_says_whether_it_is_met() {
        let t = Target {
            name: "attach".into(),
            ratio: 1.04,
            limit: 1.10,
            at_most: true,
        };
        assert!(t.met());
        assert!(t.line().ends_with("met"), "{}", t.line());
        let slow = Target {
            ratio: 0.9,
            limit: 1.0,
            at_most: false,
            ..t
        };
        assert!(!slow.met());
    }
}
