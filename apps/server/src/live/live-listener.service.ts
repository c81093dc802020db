import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { PgListenerService } from '../notify/pg-listener.service';
import { ANOMALY_CHANNEL, decodeAnomaly } from '../anomalies/live-anomaly';
import { decodeNotification, LIVE_CHANNEL, LiveBatchSummary } from './live-payload';

/**
 * Re-emits every stored batch announced on the batches channel, whichever
 * replica stored it (the writer NOTIFYs inside its transaction).
 */
@Injectable()
export class LiveListenerService extends EventEmitter {
  private readonly logger = new Logger('live');

  constructor(listener: PgListenerService) {
    super();
    this.setMaxListeners(0);
    listener.listen(LIVE_CHANNEL, (payload) => {
      try {
        for (const s of decodeNotification(payload)) this.emit('batch', s as LiveBatchSummary);
      } catch (err) {
        this.logger.warn(`bad notification payload: ${(err as Error).message}`);
      }
    });
    listener.listen(ANOMALY_CHANNEL, (payload) => {
      try {
        const a = decodeAnomaly(payload);
        if (a) this.emit('anomaly', a);
      } catch (err) {
        this.logger.warn(`bad anomaly payload: ${(err as Error).message}`);
      }
    });
  }
}
