// A minimal ZIP writer ("stored": images are compressed already), so several results
// download as one archive built in the browser, under the names the user knows. Those
// names never reach the server.

const CRC_TABLE = makeCrcTable();

function makeCrcTable() {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function dosTime(date) {
  const time = (date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1);
  const day = ((date.getFullYear() - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate();
  return { time, day };
}

const UTF8_NAMES = 0x0800;

function localHeader(entry) {
  const view = new DataView(new ArrayBuffer(30));
  view.setUint32(0, 0x04034b50, true);
  writeCommon(view, 4, entry);
  view.setUint16(26, entry.name.length, true);
  view.setUint16(28, 0, true);
  return [view.buffer, entry.name];
}

function centralHeader(entry) {
  const view = new DataView(new ArrayBuffer(46));
  view.setUint32(0, 0x02014b50, true);
  view.setUint16(4, 20, true);
  writeCommon(view, 6, entry);
  view.setUint16(28, entry.name.length, true);
  view.setUint32(42, entry.offset, true);
  return [view.buffer, entry.name];
}

// The fields local and central headers share, from "version needed" to the sizes.
function writeCommon(view, at, entry) {
  view.setUint16(at, 20, true);
  view.setUint16(at + 2, UTF8_NAMES, true);
  view.setUint16(at + 4, 0, true);
  view.setUint16(at + 6, entry.stamp.time, true);
  view.setUint16(at + 8, entry.stamp.day, true);
  view.setUint32(at + 10, entry.crc, true);
  view.setUint32(at + 14, entry.size, true);
  view.setUint32(at + 18, entry.size, true);
}

function endRecord(count, size, offset) {
  const view = new DataView(new ArrayBuffer(22));
  view.setUint32(0, 0x06054b50, true);
  view.setUint16(8, count, true);
  view.setUint16(10, count, true);
  view.setUint32(12, size, true);
  view.setUint32(16, offset, true);
  return view.buffer;
}

// entries: [{name, blob}] -> a Blob of a ZIP archive holding them.
export async function zipArchive(entries, now = new Date()) {
  const encoder = new TextEncoder();
  const stamp = dosTime(now);
  const parts = [];
  const written = [];
  let offset = 0;
  for (const { name, blob } of entries) {
    const data = new Uint8Array(await blob.arrayBuffer());
    const entry = { name: encoder.encode(name), crc: crc32(data), size: data.length, stamp, offset };
    parts.push(...localHeader(entry), data);
    written.push(entry);
    offset += 30 + entry.name.length + data.length;
  }
  const central = written.flatMap(centralHeader);
  const centralSize = written.reduce((sum, entry) => sum + 46 + entry.name.length, 0);
  parts.push(...central, endRecord(written.length, centralSize, offset));
  return new Blob(parts, { type: "application/zip" });
}
