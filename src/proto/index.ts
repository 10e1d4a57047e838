export { loadServices, servicesFromRoot, messageCodec, lookupType, DECODE_OPTIONS } from './load.js';
