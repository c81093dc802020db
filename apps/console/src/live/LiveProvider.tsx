'use client';

import { useTranslations } from 'next-intl';
import {
  createContext,
  ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { inRoom, LiveEvent, liveUrl, parseMessage, reconnectDelay } from './live-feed';

type Handler = (e: LiveEvent) => void;
export type LiveState = 'connecting' | 'open' | 'reconnecting' | 'denied';

interface Live {
  join(room: string, handler: Handler): () => void;
}

const LiveContext = createContext<Live | null>(null);

/**
 * One WebSocket per page to the live feed (/api/v1/live on the console's origin, forwarded to
 * the server by server.mjs, the session cookie going along). Components join rooms with
 * useLiveRoom; the socket reconnects by itself (1 s doubling to 30 s) and re-joins them, and a
 * banner says when live updates are interrupted. `enabled` is false for roles the server does
 * not admit to the feed: no socket is opened for them at all.
 */
export function LiveProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const t = useTranslations('live');
  const [state, setState] = useState<LiveState>('connecting');
  const [joined, setJoined] = useState<string[]>([]);
  const socket = useRef<WebSocket | null>(null);
  const rooms = useRef(new Map<string, Set<Handler>>());
  const acked = useRef(new Set<string>());

  const send = useCallback((event: string, room: string) => {
    const ws = socket.current;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ event, data: { room } }));
  }, []);

  useEffect(() => {
    if (!enabled) return;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let stopped = false;
    const connect = () => {
      const ws = new WebSocket(liveUrl(window.location));
      socket.current = ws;
      ws.onopen = () => {
        attempt = 0;
        setState('open');
        for (const room of rooms.current.keys()) send('subscribe', room);
      };
      ws.onmessage = (m) => {
        const msg = parseMessage(String(m.data));
        if (!msg) return;
        if (msg.event === 'subscribed') {
          acked.current.add(msg.data.room);
          setJoined([...acked.current].sort());
        } else if (msg.event === 'batch' || msg.event === 'anomaly') {
          for (const [room, handlers] of rooms.current) {
            if (inRoom(room, msg)) handlers.forEach((h) => h(msg));
          }
        }
      };
      ws.onclose = (e) => {
        socket.current = null;
        acked.current.clear();
        setJoined([]);
        if (stopped) return;
        setState('reconnecting');
        const retry = () => {
          if (!stopped) timer = setTimeout(connect, reconnectDelay(attempt++));
        };
        // 1008: the server refused the socket. A session that ended (signed out, expired, role
        // changed) stops here; anything else (the server's check failed) is tried again.
        if (e.code !== 1008) return retry();
        fetch('/api/v1/auth/me', { credentials: 'same-origin', cache: 'no-store' })
          .then((r) => (r.status === 401 || r.status === 403 ? setState('denied') : retry()))
          .catch(retry);
      };
    };
    connect();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      socket.current?.close(1000);
      socket.current = null;
    };
  }, [enabled, send]);

  const join = useCallback(
    (room: string, handler: Handler) => {
      let set = rooms.current.get(room);
      if (!set) {
        set = new Set();
        rooms.current.set(room, set);
        send('subscribe', room);
      }
      set.add(handler);
      return () => {
        const s = rooms.current.get(room);
        s?.delete(handler);
        if (s && s.size === 0) {
          rooms.current.delete(room);
          acked.current.delete(room);
          setJoined([...acked.current].sort());
          send('unsubscribe', room);
        }
      };
    },
    [send],
  );

  // One value for the provider's life: a new object per render would make every room re-join.
  const value = useMemo(() => (enabled ? { join } : null), [enabled, join]);

  return (
    <LiveContext.Provider value={value}>
      {enabled ? (
        <div
          className={`live-status ${state}`}
          data-testid="live-status"
          data-state={state}
          data-rooms={joined.join(' ')}
          role="status"
          aria-live="polite"
        >
          {state === 'reconnecting' ? (
            <p className="banner error">{t('reconnecting')}</p>
          ) : state === 'denied' ? (
            <p className="banner error">{t('denied')}</p>
          ) : null}
        </div>
      ) : null}
      {children}
    </LiveContext.Provider>
  );
}

/** Calls `handler` for every live event of `room` ("fleet" or "host:<agentId>") while mounted. */
export function useLiveRoom(room: string | null, handler: Handler): void {
  const live = useContext(LiveContext);
  const latest = useRef(handler);
  useEffect(() => {
    latest.current = handler;
  });
  useEffect(() => {
    if (!live || !room) return;
    return live.join(room.toLowerCase(), (e) => latest.current(e));
  }, [live, room]);
}
