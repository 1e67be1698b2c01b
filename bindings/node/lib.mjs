// ES module entry of `support-access`: the same objects as the CommonJS entry (lib.js).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const lib = require('./lib.js')

export const {
  Policy,
  SupportAccessError,
  verifyRecord,
  verifyCheckpoints,
  Checkpoint,
  PublicKey,
  SigningKey,
  SIGNING,
  ERROR_CODES,
  REASONS,
  GRANT_TYPES,
  RESOURCES,
  CLUSTER_KINDS,
  coreVersion,
  VERSION,
} = lib
export default lib
