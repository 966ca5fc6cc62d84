/** Re-exports for the crafted test client. */
export { decode, encode, emptyPacket } from '../../../pxe/dhcp/packet.js';
import { macToBytes } from '../../../pxe/net/mac.js';
export const macToBytesFor = macToBytes;
