import type { Locale } from '../i18n/locales';
import en from './en.json';
import zhCN from './zh-CN.json';

/** The default catalog is the type; every other catalog must have the same shape. */
export type Messages = typeof zhCN;

export const catalogs: Record<Locale, Messages> = { 'zh-CN': zhCN, en };
