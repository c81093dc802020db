import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'tidewatch:public';

/** Marks a route that stays open when authentication arrives (health, metrics, docs). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
