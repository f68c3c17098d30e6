/*
 * Speed, accuracy and samples per minute: three uPlot charts on one time axis. The cursor is shared; a drag
 * across any of them zooms all three and reports the range (the map then shows that slice); a double click, or
 * `reset`, zooms out.
 * The charts draw the points as the server merged them (about one per pixel, see zoom.ts): each is the mean of the
 * minutes it stands for, and a zoom asks the page for finer points, down to single minutes.
 */
import uPlot from 'uplot';
import { formatCount } from './format.js';
import {
  chartSeries,
  isExact,
  samplesPerMinute,
  sliceIndices,
  trackLength,
  trackMinutes,
  type Track,
} from './track.js';

interface ChartSpec {
  key: 'speed' | 'accuracy' | 'samples';
  /** The values drawn, one per point; NaN where none was reported. */
  values(track: Track): ArrayLike<number>;
  title: string;
  unit: string;
  stroke: string;
  fill: string;
  digits: number;
}

const SPECS: readonly ChartSpec[] = [
  {
    key: 'speed',
    values: (t) => t.speed,
    title: 'Speed',
    unit: 'm/s',
    stroke: '#21918c',
    fill: 'rgba(33,145,140,0.12)',
    digits: 1,
  },
  {
    key: 'accuracy',
    values: (t) => t.accuracy,
    title: 'Accuracy',
    unit: 'm',
    stroke: '#b45309',
    fill: 'rgba(180,83,9,0.10)',
    digits: 0,
  },
  {
    key: 'samples',
    // A bucket's samples over its minutes: the same scale as a single minute's.
    values: samplesPerMinute,
    title: 'Samples',
    unit: 'per minute',
    stroke: '#4338ca',
    fill: 'rgba(67,56,202,0.12)',
    digits: 0,
  },
];

const HEIGHT = 150;

/** A value as the legend shows it; a bucket's mean samples per minute is rarely whole, and says so. */
function formatValue(spec: ChartSpec, v: number): string {
  return v.toFixed(Number.isInteger(v) ? 0 : Math.max(spec.digits, 1));
}

export interface ChartCallbacks {
  /** The user zoomed to [fromMs, toMs], or back out (null). */
  onZoom(range: [number, number] | null): void;
  /** The cursor is on the point nearest `ms`, or left the charts (null). */
  onHover(ms: number | null): void;
}

/**
 * Tick labels in UTC, 24-hour: the time, with the date under the first tick of each day; when ticks are a day
 * or more apart, the month and day, with the year under the first tick of each year.
 */
function timeLabels(_u: uPlot, splits: number[], _axis: number, _space: number, increment: number): string[] {
  let previous = '';
  return splits.map((seconds) => {
    const iso = new Date(seconds * 1000).toISOString();
    const [day, year] = [iso.slice(0, 10), iso.slice(0, 4)];
    const [top, bottom, key] =
      increment >= 86_400 ? [iso.slice(5, 10), year, year] : [iso.slice(11, 16), day, day];
    const label = key === previous ? top : `${top}\n${bottom}`;
    previous = key;
    return label;
  });
}

export class Charts {
  readonly #plots: Array<{ spec: ChartSpec; plot: uPlot; figure: HTMLElement }> = [];
  readonly #callbacks: ChartCallbacks;
  #track: Track | null = null;
  #view: [number, number] | null = null;

  constructor(container: HTMLElement, callbacks: ChartCallbacks) {
    this.#callbacks = callbacks;
    const width = Math.max(300, container.clientWidth);
    for (const spec of SPECS) {
      const figure = document.createElement('figure');
      figure.className = 'chart';
      const caption = document.createElement('figcaption');
      caption.textContent = `${spec.title} (${spec.unit})`;
      const body = document.createElement('div');
      body.setAttribute('role', 'img');
      figure.append(caption, body);
      container.append(figure);
      this.#plots.push({ spec, plot: new uPlot(this.#options(spec, width), [[], []], body), figure: body });
    }
    new ResizeObserver(() => this.#resize(container)).observe(container);
  }

  /** Shows `track`, zoomed to `view` when given. */
  setTrack(track: Track, view: [number, number] | null): void {
    this.#track = track;
    this.#render(view);
  }

  /** Back to the whole of the loaded range: the page answers with that range's track (setTrack). */
  reset(): void {
    this.#callbacks.onZoom(null);
  }

  /** Points drawn by each chart, for the page state. */
  drawnPoints(): number[] {
    return this.#plots.map(({ plot }) => plot.data[0].length);
  }

  #render(view: [number, number] | null): void {
    const track = this.#track;
    if (!track) return;
    this.#view = view;
    const [start, end] = view ? sliceIndices(track, view[0], view[1]) : [0, trackLength(track)];
    const first = track.timeMs[start];
    const last = track.timeMs[end - 1];
    const range = view ?? (first === undefined || last === undefined ? null : [first, last]);
    for (const { spec, plot, figure } of this.#plots) {
      plot.setData(chartSeries(track, spec.values(track), start, end));
      if (range && range[1] > range[0]) plot.setScale('x', { min: range[0] / 1000, max: range[1] / 1000 });
      figure.setAttribute('aria-label', this.#describe(spec, track, start, end));
    }
  }

  /** The chart in words: what it covers, its mean and its highest value. */
  #describe(spec: ChartSpec, track: Track, start: number, end: number): string {
    const values = spec.values(track);
    let count = 0;
    let sum = 0;
    let max = -Infinity;
    for (let i = start; i < end; i++) {
      const v = values[i]!;
      if (Number.isNaN(v)) continue;
      count += 1;
      sum += v;
      max = Math.max(max, v);
    }
    if (count === 0) return `${spec.title}: no values in this range`;
    const minutes = formatCount(trackMinutes(track, start, end));
    const per = isExact(track)
      ? `per minute over ${minutes} minutes`
      : `over ${minutes} minutes, in means of up to ${formatCount(track.bucketSeconds / 60)} minutes`;
    return (
      `${spec.title} ${per}: mean ${(sum / count).toFixed(spec.digits)}, ` +
      `highest ${max.toFixed(spec.digits)} ${spec.unit}`
    );
  }

  #options(spec: ChartSpec, width: number): uPlot.Options {
    return {
      width,
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      // Speed, accuracy and samples are never negative: the axis starts at 0, so heights compare honestly.
      scales: {
        x: { time: true },
        y: { range: (_u, _min, max) => uPlot.rangeNum(0, max > 0 ? max : 1, 0.1, true) },
      },
      legend: { live: true },
      series: [
        { label: 'UTC', value: '{YYYY}-{MM}-{DD} {HH}:{mm}' },
        {
          label: spec.title,
          stroke: spec.stroke,
          fill: spec.fill,
          width: 1.5,
          spanGaps: false,
          points: { show: false },
          paths: spec.key === 'samples' ? uPlot.paths.stepped?.({ align: 1 }) : undefined,
          value: (_u, v) => (v === null ? '—' : `${formatValue(spec, v)} ${spec.unit}`),
        },
      ],
      axes: [
        {
          stroke: '#475569',
          grid: { stroke: '#e2e8f0' },
          ticks: { stroke: '#cbd5e1' },
          values: timeLabels,
          space: 60,
        },
        {
          stroke: '#475569',
          grid: { stroke: '#e2e8f0' },
          ticks: { stroke: '#cbd5e1' },
          size: 56,
          space: 24,
          // Samples are whole numbers: no 2.5 on their axis.
          ...(spec.key === 'samples' ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] } : {}),
        },
      ],
      cursor: {
        sync: { key: 'locus-charts' },
        // The selection is turned into a zoom by the setSelect hook, for all three charts at once.
        drag: { x: true, y: false, setScale: false },
        bind: {
          // uPlot's own double click zooms out to the data it holds, which after a zoom is only the slice.
          dblclick: () => () => {
            this.reset();
            return null;
          },
        },
      },
      hooks: {
        setSelect: [(u) => this.#onSelect(u)],
        setCursor: [(u) => this.#onCursor(u)],
      },
    };
  }

  /** The user dragged across a chart: zoom every chart to that time, and tell the page. */
  #onSelect(u: uPlot): void {
    const { left, width } = u.select;
    if (width < 2) return;
    const range: [number, number] = [
      Math.round(u.posToVal(left, 'x') * 1000),
      Math.round(u.posToVal(left + width, 'x') * 1000),
    ];
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    this.#render(range);
    this.#callbacks.onZoom(range);
  }

  #onCursor(u: uPlot): void {
    const idx = u.cursor.idx;
    const x = idx === null || idx === undefined ? undefined : u.data[0][idx];
    this.#callbacks.onHover(x === undefined ? null : x * 1000);
  }

  #resize(container: HTMLElement): void {
    const width = Math.max(300, container.clientWidth);
    for (const { plot } of this.#plots) if (plot.width !== width) plot.setSize({ width, height: HEIGHT });
    if (this.#track) this.#render(this.#view);
  }
}
