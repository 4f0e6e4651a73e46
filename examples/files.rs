//! Files in and out of the code-execution container: upload a CSV with the
//! Files API, have the model analyse it in code (the API's code-execution
//! tool), and download the chart the code wrote.
//!
//! With `ANTHROPIC_API_KEY` set it talks to the real API. Without it, it
//! runs against a scripted server on loopback that serves the Files API
//! from memory and answers as the model would: one code run that reads the
//! uploaded file and writes `monthly_totals.svg`. The upload, the
//! download and the chart (drawn from the CSV's numbers) are real.
//!
//! ```sh
//! cargo run --example files
//! ```

#[path = "support/mod.rs"]
mod support;

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::testing::{Reply, ScriptedFile};
use toolrunner::{ContentBlock, DEFAULT_CODE_EXECUTION, FileUpload, MessageParams, toolset};

const SALES_CSV: &str = "month,region,amount\n\
Jan,north,120\nJan,south,80\n\
Feb,north,95\nFeb,south,130\n\
Mar,north,160\nMar,south,110\n";

/// The id the scripted container gives the chart it writes.
const CHART_ID: &str = "file_scripted_chart";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    support::init_tracing();
    let (client, scripted) = support::client_or_scripted(scripted_model()).await?;
    if let Some(server) = &scripted {
        // What the scripted container's code writes.
        let chart = bar_chart(&monthly_totals(SALES_CSV));
        server.add_file(ScriptedFile::new(
            CHART_ID,
            "monthly_totals.svg",
            "image/svg+xml",
            chart,
        ));
    }

    // The input: a CSV on disk, uploaded as it is read.
    let work =
        std::env::temp_dir().join(format!("toolrunner-files-example-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let csv_path = work.join("sales.csv");
    std::fs::write(&csv_path, SALES_CSV)?;
    let csv = client.files().upload(FileUpload::path(&csv_path)).await?;
    println!(
        "uploaded {} as {} ({} bytes, {})",
        csv.filename, csv.id, csv.size_bytes, csv.mime_type
    );

    let params = MessageParams::new(support::model(), 4096)
        .tool(json!({"type": DEFAULT_CODE_EXECUTION, "name": "code_execution"}))
        .user_with_files(
            "Total sales.csv's amounts per month, and save a bar chart of the totals \
             as monthly_totals.svg.",
            [ContentBlock::container_upload(&csv.id)],
        );
    let mut runner = client.tool_runner(params, toolset![]).max_iterations(6);
    while let Some(message) = runner.next().await {
        for block in &message?.content {
            match block {
                ContentBlock::Text(text) => println!("assistant: {}", text.text),
                ContentBlock::ServerToolUse(run) => {
                    println!(
                        "  [code]\n{}",
                        indent(run.input["code"].as_str().unwrap_or(""))
                    )
                }
                _ => {}
            }
        }
    }
    for run in runner.code_executions() {
        println!("  code run {} wrote {:?}", run.id, run.output_files());
    }

    // The output: every file the code wrote, named from its metadata.
    let out = work.join("out");
    let artifacts = runner.download_artifacts(&out).await?;
    for saved in &artifacts.saved {
        println!(
            "downloaded {} ({} bytes) to {}",
            saved.file_id,
            saved.bytes,
            saved.path.display()
        );
    }
    for (file_id, error) in &artifacts.failed {
        println!("could not download {file_id}: {error}");
    }

    // The upload has served its purpose.
    client.files().delete(&csv.id).await?;
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Totals per month, in the CSV's order.
fn monthly_totals(csv: &str) -> Vec<(String, u64)> {
    let mut totals: Vec<(String, u64)> = Vec::new();
    for line in csv.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let (Some(month), Some(amount)) = (fields.first(), fields.get(2)) else {
            continue;
        };
        let amount: u64 = amount.trim().parse().unwrap_or(0);
        match totals.iter_mut().find(|(m, _)| m == month) {
            Some((_, total)) => *total += amount,
            None => totals.push((month.to_string(), amount)),
        }
    }
    totals
}

/// A small SVG bar chart of `totals`.
fn bar_chart(totals: &[(String, u64)]) -> String {
    let max = totals.iter().map(|(_, t)| *t).max().unwrap_or(1).max(1);
    let mut svg =
        String::from(r#"<svg xmlns="http://www.w3.org/2000/svg" width="320" height="220">"#);
    for (i, (month, total)) in totals.iter().enumerate() {
        let height = total * 160 / max;
        let x = 30 + i as u64 * 90;
        svg.push_str(&format!(
            r#"<rect x="{x}" y="{}" width="60" height="{height}" fill="steelblue"/><text x="{}" y="205">{month} {total}</text>"#,
            180 - height,
            x + 5
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// The scripted model: if the request puts a file in the container, one
/// code run that totals it and writes the chart, then a summary.
fn scripted_model() -> impl FnMut(&Value) -> Reply + Send + 'static {
    move |request: &Value| {
        let uploaded = request["messages"][0]["content"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| b["type"] == "container_upload")
            .and_then(|b| b["file_id"].as_str());
        let content = match uploaded {
            None => json!([{"type": "text", "text": "I can't see a file to analyse."}]),
            Some(_) => {
                let totals = monthly_totals(SALES_CSV);
                let stdout: String = totals.iter().map(|(m, t)| format!("{m}: {t}\n")).collect();
                let code = "import pandas as pd, matplotlib\nmatplotlib.use('svg')\n\
                            df = pd.read_csv('sales.csv')\n\
                            totals = df.groupby('month', sort=False)['amount'].sum()\n\
                            print(totals.to_string())\n\
                            totals.plot.bar().figure.savefig('monthly_totals.svg')";
                json!([
                    {"type": "server_tool_use", "id": "srvtoolu_scripted_1", "name": "code_execution",
                     "input": {"code": code}},
                    {"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_scripted_1",
                     "content": {"type": "code_execution_result", "stdout": stdout, "stderr": "",
                                 "return_code": 0,
                                 "content": [{"type": "code_execution_output", "file_id": CHART_ID}]}},
                    {"type": "text", "text": format!(
                        "Monthly totals: {}. March is the best month. The chart is in monthly_totals.svg.",
                        totals.iter().map(|(m, t)| format!("{m} {t}")).collect::<Vec<_>>().join(", ")
                    )}
                ])
            }
        };
        Reply::message(support::assistant(1, content, "end_turn"))
    }
}
