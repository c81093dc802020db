import { Module } from '@nestjs/common';
import { PgListenerService } from './pg-listener.service';

/** The replica's one LISTEN connection, shared by the modules that follow NOTIFY channels. */
@Module({ providers: [PgListenerService], exports: [PgListenerService] })
export class NotifyModule {}
