'use client';

import { useEffect, useRef } from 'react';
import { useRouter } from '../i18n/navigation';
import { useLiveRoom } from './LiveProvider';
import { windowInView } from './live-feed';

/**
 * Re-renders the page it sits in (router.refresh: the server components fetch again, the
 * browser keeps its state, no reload) when a live window or anomaly changes what it shows, at
 * most once per `minIntervalMs`: the figures stay the server's exact ones, never summed in the
 * browser. `range`: the view's range (live: a preset whose end moves with the clock).
 */
export function LiveRefresh({
  room,
  range,
  on = ['batch', 'anomaly'],
  minIntervalMs = 2000,
}: {
  room: string;
  range?: { from: number; to: number; live: boolean };
  on?: ('batch' | 'anomaly')[];
  minIntervalMs?: number;
}) {
  const router = useRouter();
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  useLiveRoom(room, (e) => {
    if (!on.includes(e.event)) return;
    if (e.event === 'batch' && range && !windowInView(e.data, range)) return;
    if (timer.current) return;
    const wait = Math.max(0, last.current + minIntervalMs - Date.now());
    timer.current = setTimeout(() => {
      timer.current = null;
      last.current = Date.now();
      router.refresh();
    }, wait);
  });
  return null;
}
