// eslint-disable-next-line @typescript-eslint/no-require-imports -- package.json sits outside rootDir
export const AGENT_VERSION: string = (require('../../package.json') as { version: string }).version;
