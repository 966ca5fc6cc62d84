// A job's live view: progress bar (percent, bytes, rate, step) polled once a second while it
// runs, and its log when it failed.
import { get, enc } from '../api.js';
import { bytes, clear, h, when, fill } from '../dom.js';

export function jobView(job, { onFinished } = {}) {
  const box = h('div', { class: 'job', 'data-job': job.id });
  let timer = null;
  let stopped = false;

  function draw(j) {
    const p = j.progress;
    const running = j.state === 'running' || j.state === 'queued';
    // The API keeps the log as one capped string (GET /jobs/{id}); its last line may be cut.
    const lines = typeof j.log === 'string' ? j.log.split('\n').filter((l) => l.trim() !== '') : Array.isArray(j.log) ? j.log : [];
    fill(box, 
      h('p', { class: 'job-head' }, h('span', { class: `badge job-${j.state}` }, j.state), ` ${j.kind} ${j.target ?? ''}`, j.step ? h('span', { class: 'muted' }, ` — ${j.step}`) : null, ' ', h('span', { class: 'muted small' }, 'started ', when(j.startedAt ?? j.createdAt))),
      running
        ? h('div', { class: 'progress-row' },
            h('progress', { max: 100, value: p?.percent ?? undefined, 'aria-label': `${j.kind} progress` }),
            h('span', { class: 'small progress-text' }, p ? `${p.percent != null ? `${Math.round(p.percent)}%` : ''} ${p.bytes != null ? bytes(p.bytes) : ''} ${p.rate != null ? `at ${bytes(p.rate)}/s` : ''}` : 'waiting…'),
          )
        : null,
      j.state === 'failed' ? h('p', { class: 'form-error' }, j.error || 'failed') : null,
      j.state === 'succeeded' && j.result?.version
        ? j.result.unchanged
          ? h('p', { class: 'small' }, 'Nothing changed on the golden host since version ', h('span', { class: 'mono ver' }, String(j.result.version)), ': no new version.')
          : h('p', { class: 'small' }, 'Version ', h('span', { class: 'mono ver' }, String(j.result.version)), ' is ready.')
        : null,
      lines.length
        ? h('details', { open: j.state === 'failed' ? true : undefined }, h('summary', {}, `Job log (${lines.length} line${lines.length === 1 ? '' : 's'})`), h('pre', { class: 'code log' }, lines.join('\n')))
        : null,
    );
    return running;
  }

  async function poll() {
    if (stopped) return;
    try {
      const j = await get(`/jobs/${enc(job.id)}`);
      if (draw(j)) timer = setTimeout(poll, 1000);
      else onFinished?.(j);
    } catch {
      timer = setTimeout(poll, 3000);
    }
  }

  if (draw(job)) timer = setTimeout(poll, 1000);
  return { el: box, stop: () => ((stopped = true), clearTimeout(timer)) };
}
