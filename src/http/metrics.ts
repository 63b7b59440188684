/** Prometheus text exposition for the API process; per-matter figures come with issue "reform figures". */
export interface Metrics {
  accepted(matter: string): void;
  requests(status: number): void;
  /** One intake transaction committed with `filings` new filings in it (group commit, issue 13). */
  intakeCommit(filings: number): void;
  /**
   * The exposition; with `matters` (a department admin's view) only those matters' figures, without the
   * process-wide ones (responses by status, memory), which are the operators'.
   */
  render(extra: Record<string, number>, view?: { matters: ReadonlySet<string> }): string;
}

export function createMetrics(): Metrics {
  const accepted = new Map<string, number>();
  const byStatus = new Map<string, number>();
  const intake = { commits: 0, filings: 0 };
  return {
    intakeCommit(filings) {
      intake.commits += 1;
      intake.filings += filings;
    },
    accepted(matter) {
      accepted.set(matter, (accepted.get(matter) ?? 0) + 1);
    },
    requests(status) {
      const k = `${Math.floor(status / 100)}xx`;
      byStatus.set(k, (byStatus.get(k) ?? 0) + 1);
    },
    render(extra, view) {
      const own = [...accepted].filter(([m]) => !view || view.matters.has(m));
      const lines = [
        '# HELP miaopi_applications_accepted_total Filings accepted by this API process.',
        '# TYPE miaopi_applications_accepted_total counter',
        ...own.map(([m, n]) => `miaopi_applications_accepted_total{matter="${m}"} ${n}`),
      ];
      if (view) return `${lines.join('\n')}\n`;
      lines.push(
        '# HELP miaopi_http_responses_total HTTP responses by status class.',
        '# TYPE miaopi_http_responses_total counter',
        ...[...byStatus].map(([s, n]) => `miaopi_http_responses_total{class="${s}"} ${n}`),
        '# HELP miaopi_process_resident_memory_bytes Resident set size.',
        '# TYPE miaopi_process_resident_memory_bytes gauge',
        `miaopi_process_resident_memory_bytes ${process.memoryUsage().rss}`,
        '# HELP miaopi_intake_commits_total Intake transactions committed by this API process (a batch of filings each under load).',
        '# TYPE miaopi_intake_commits_total counter',
        `miaopi_intake_commits_total ${intake.commits}`,
        '# HELP miaopi_intake_filings_committed_total New filings those transactions committed.',
        '# TYPE miaopi_intake_filings_committed_total counter',
        `miaopi_intake_filings_committed_total ${intake.filings}`,
      );
      for (const [name, value] of Object.entries(extra)) {
        lines.push(`# TYPE ${name} gauge`, `${name} ${value}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
