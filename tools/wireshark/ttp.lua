-- Wireshark dissector for TTP (TTPoE Rev 2.0, "Tesla Transport Protocol over Ethernet") as weft
-- sends it, including weft's extension block. Written for weft from docs/wire-format.md.
--
--   wireshark -X lua_script:tools/wireshark/ttp.lua capture.pcap
--   tshark -r capture.pcap -X lua_script:tools/wireshark/ttp.lua -Y ttpoe
--
-- What it dissects:
--   * raw Ethernet, EtherType 0x9AC6 (also behind 802.1Q / 802.1ad tags):
--       TTH (20 B) -> TSH (8 B) -> TTP (18 B) -> [weft extension block] -> payload -> padding
--   * the UDP encapsulation: TTP (18 B) directly after the UDP header -> [extension block] -> payload
--   * protected frames (weft, TTP flag 0x04): TTP -> security header (12 B: version, key
--     generation, reserved, transmission counter) -> sealed bytes (the encrypted extension block
--     and payload, shown as ttp.sealed, not decrypted: the dissector has no keys) -> 16 B tag
--   * the Hello TLV (0x11) of secured OPEN / OPEN_ACK: suites, auth, issued stamps, X25519 /
--     Ed25519 keys, signature and cluster MAC (docs/security.md)
--       - by default a heuristic on every UDP port (see looks_like_ttp below);
--       - or, with the preference "ttpoe.udp_port" set, every datagram from or to that port.
--
-- The checks and their order are those of weft's codec (transport/core/wire.cc), so a frame weft
-- would drop is flagged here with the same reason: the field ttp.error holds the name
-- wire::decode_error_name gives ("bad-length", "bad-extension", ...), with an expert item.
-- `weft decode FILE.pcap --json` prints the same fields; tests/integration/dissector_test.cc
-- compares the two on every frame.
--
-- Protocols (display filters): tth, tsh and ttpoe ("ttp" is taken by IrDA's Tiny TP, so the
-- TTP layer is the protocol "ttpoe"; its fields are still named ttp.*).
-- Tested with Wireshark/tshark 4.0 (Lua 5.2). It uses no bit32/bit library, only arithmetic, so it
-- should also load where Wireshark embeds Lua 5.3/5.4.

local ETHERTYPE_TTP = 0x9AC6
local ETH_HEADER = 14
local TTH_BYTES, TSH_BYTES, TTP_BYTES = 20, 8, 18
local TTH_TO_PAYLOAD = TTH_BYTES + TSH_BYTES + TTP_BYTES -- 46
local MIN_RECV_FRAME = 60
local EXT_BLOCK_HEADER = 4
local EXT_FEATURES, EXT_HELLO, EXT_SACK = 0x10, 0x11, 0x20
local FEATURES_VALUE_BYTES = 13
local HELLO_VALUE_BYTES = 212
local SECURITY_VERSION, SECURITY_HEADER, TAG_BYTES = 1, 12, 16
local MAX_SACK_RANGES = 16

local p_tth = Proto("tth", "TTPoE Transport Header (TTH)")
local p_tsh = Proto("tsh", "TTPoE Shim Header (TSH)")
local p_ttp = Proto("ttpoe", "Tesla Transport Protocol (TTP)")

local opcode_names = {
  [0x00] = "OPEN", [0x01] = "OPEN_ACK", [0x02] = "OPEN_NACK",
  [0x03] = "CLOSE", [0x04] = "CLOSE_ACK", [0x05] = "CLOSE_NACK",
  [0x06] = "PAYLOAD", [0x07] = "ACK", [0x08] = "NACK",
  [0x09] = "NACK_FULL", [0x0A] = "NACK_NOLINK",
}
local vc_names = { [0] = "request, low priority", [1] = "request, high priority", [2] = "data" }
local ext_names = { [0x00] = "none", [EXT_FEATURES] = "features", [EXT_HELLO] = "hello",
  [EXT_SACK] = "selective ACK" }

-- ---- fields -------------------------------------------------------------------------------------

local F = {
  -- TTH
  tth_styp = ProtoField.uint8("tth.styp", "Subtype", base.DEC, nil, 0xC0),
  tth_vers = ProtoField.uint8("tth.vers", "Version", base.DEC, nil, 0x30),
  tth_tthl = ProtoField.uint8("tth.tthl", "Header length (32-bit words)", base.DEC, nil, 0x0F),
  tth_gw = ProtoField.bool("tth.gw", "Via gateway", 8, nil, 0x80),
  tth_reserved = ProtoField.uint8("tth.reserved", "Reserved", base.HEX, nil, 0x7F),
  tth_total_length = ProtoField.uint16("tth.total_length", "Total length", base.DEC),
  tth_pad = ProtoField.bytes("tth.pad", "Pad"),
  -- TSH
  tsh_src_node = ProtoField.uint24("tsh.src_node", "Source node", base.DEC_HEX),
  tsh_dst_node = ProtoField.uint24("tsh.dst_node", "Destination node", base.DEC_HEX),
  tsh_length = ProtoField.uint16("tsh.length", "Length", base.DEC),
  -- TTP
  opcode = ProtoField.uint8("ttp.opcode", "Opcode", base.HEX, opcode_names),
  vc = ProtoField.uint8("ttp.vc", "Virtual channel", base.DEC, vc_names),
  entropy = ProtoField.uint16("ttp.entropy", "Entropy", base.HEX),
  epoch = ProtoField.uint16("ttp.epoch", "Epoch", base.HEX),
  congestion = ProtoField.uint8("ttp.congestion", "Congestion (CE-marked since the last ACK)", base.DEC),
  version = ProtoField.uint8("ttp.version", "Version", base.DEC, nil, 0xF0),
  flags = ProtoField.uint8("ttp.flags", "Flags", base.HEX, nil, 0x0F),
  flags_eom = ProtoField.bool("ttp.flags.eom", "End of message", 8, nil, 0x01),
  flags_ack_piggyback = ProtoField.bool("ttp.flags.ack_piggyback", "ACK piggybacked (RxID, congestion)", 8, nil, 0x02),
  flags_protected = ProtoField.bool("ttp.flags.protected", "Protected (security header, sealed, tag)", 8, nil, 0x04),
  reserved = ProtoField.uint8("ttp.reserved", "Reserved", base.HEX, nil, 0xFC),
  cr = ProtoField.bool("ttp.cr", "Congestion reduced (CR)", 8, nil, 0x02),
  ce = ProtoField.bool("ttp.ce", "Congestion experienced (CE)", 8, nil, 0x01),
  extension = ProtoField.uint8("ttp.extension", "Extension (first TLV type)", base.HEX, ext_names),
  tx_id = ProtoField.uint32("ttp.tx_id", "TxID", base.HEX),
  rx_id = ProtoField.uint32("ttp.rx_id", "RxID", base.HEX),
  -- weft extension block
  ext_version = ProtoField.uint8("ttp.ext.version", "Block version", base.DEC),
  ext_reserved = ProtoField.uint8("ttp.ext.reserved", "Block reserved", base.HEX),
  ext_length = ProtoField.uint16("ttp.ext.length", "Block length", base.DEC),
  ext_type = ProtoField.uint8("ttp.ext.type", "TLV type", base.HEX, ext_names),
  ext_len = ProtoField.uint8("ttp.ext.len", "TLV length", base.DEC),
  feat_version = ProtoField.uint8("ttp.features.version", "Protocol version", base.DEC),
  feat_epoch = ProtoField.uint16("ttp.features.epoch", "Epoch", base.HEX),
  feat_max_frame = ProtoField.uint16("ttp.features.max_frame", "Max frame bytes", base.DEC),
  feat_window = ProtoField.uint32("ttp.features.window", "Receive window bytes", base.DEC),
  feat_bits = ProtoField.uint32("ttp.features.bits", "Feature bits", base.HEX),
  feat_sack = ProtoField.bool("ttp.features.sack", "SACK", 32, nil, 0x00000001),
  feat_ecn = ProtoField.bool("ttp.features.ecn", "ECN", 32, nil, 0x00000002),
  feat_entropy = ProtoField.bool("ttp.features.entropy", "Entropy", 32, nil, 0x00000004),
  feat_messages = ProtoField.bool("ttp.features.messages", "Messages", 32, nil, 0x00000008),
  hello_suites = ProtoField.uint8("ttp.hello.suites", "AEAD suites offered", base.HEX),
  hello_suites_aes = ProtoField.bool("ttp.hello.suites.aes", "AES-256-GCM", 8, nil, 0x01),
  hello_suites_chacha = ProtoField.bool("ttp.hello.suites.chacha", "ChaCha20-Poly1305", 8, nil, 0x02),
  hello_auth = ProtoField.uint8("ttp.hello.auth", "Authentication present", base.HEX),
  hello_auth_signature = ProtoField.bool("ttp.hello.auth.signature", "Ed25519 signature", 8, nil, 0x01),
  hello_auth_mac = ProtoField.bool("ttp.hello.auth.mac", "Cluster MAC (HMAC-SHA256)", 8, nil, 0x02),
  hello_reserved = ProtoField.uint16("ttp.hello.reserved", "Reserved", base.HEX),
  hello_issued = ProtoField.uint64("ttp.hello.issued", "Issued (sender's handshake clock, ns)", base.DEC),
  hello_echo_issued = ProtoField.uint64("ttp.hello.echo_issued", "Echoed OPEN's issued (ns)", base.DEC),
  hello_ephemeral = ProtoField.bytes("ttp.hello.ephemeral", "Ephemeral key (X25519)"),
  hello_identity = ProtoField.bytes("ttp.hello.identity", "Identity key (Ed25519)"),
  hello_echo_ephemeral = ProtoField.bytes("ttp.hello.echo_ephemeral", "Echoed OPEN's ephemeral key"),
  hello_signature = ProtoField.bytes("ttp.hello.signature", "Signature (Ed25519)"),
  hello_mac = ProtoField.bytes("ttp.hello.mac", "Cluster MAC"),
  sack_first = ProtoField.uint32("ttp.sack.first", "First", base.HEX),
  sack_last = ProtoField.uint32("ttp.sack.last", "Last", base.HEX),
  ext_unknown = ProtoField.bytes("ttp.ext.unknown", "Undecoded extension bytes"),
  -- protected frames
  sec_version = ProtoField.uint8("ttp.sec.version", "Security header version", base.DEC),
  sec_key_generation = ProtoField.uint8("ttp.sec.key_generation", "Key generation", base.DEC),
  sec_reserved = ProtoField.uint16("ttp.sec.reserved", "Reserved", base.HEX),
  sec_counter = ProtoField.uint64("ttp.sec.counter", "Transmission counter", base.DEC),
  sealed = ProtoField.bytes("ttp.sealed", "Sealed (encrypted extension block and payload)"),
  sealed_length = ProtoField.uint32("ttp.sealed_length", "Sealed length", base.DEC),
  tag = ProtoField.bytes("ttp.tag", "AEAD tag"),
  -- payload and results
  payload = ProtoField.bytes("ttp.payload", "Payload"),
  payload_length = ProtoField.uint32("ttp.payload_length", "Payload length", base.DEC),
  padding = ProtoField.bytes("ttp.padding", "Ethernet padding"),
  error = ProtoField.string("ttp.error", "Decode error"),
}

local fields_tth = { F.tth_styp, F.tth_vers, F.tth_tthl, F.tth_gw, F.tth_reserved, F.tth_total_length, F.tth_pad }
local fields_tsh = { F.tsh_src_node, F.tsh_dst_node, F.tsh_length }
local fields_ttp = {}
for k, f in pairs(F) do
  if not k:match("^tth_") and not k:match("^tsh_") then fields_ttp[#fields_ttp + 1] = f end
end
p_tth.fields = fields_tth
p_tsh.fields = fields_tsh
p_ttp.fields = fields_ttp

-- Expert items, one per decode error (the names of wire::decode_error_name).
local E = {
  ["truncated"] = ProtoExpert.new("ttp.expert.truncated", "Truncated: shorter than its headers or its length fields",
    expert.group.MALFORMED, expert.severity.ERROR),
  ["bad-tth"] = ProtoExpert.new("ttp.expert.bad_tth", "TTH byte 0 is not 0x05 (styp 0, vers 0, tthl 5)",
    expert.group.MALFORMED, expert.severity.ERROR),
  ["bad-length"] = ProtoExpert.new("ttp.expert.bad_length",
    "Length mismatch: TTH total-length must equal TSH length + 20 and be at least 46",
    expert.group.MALFORMED, expert.severity.ERROR),
  ["bad-opcode"] = ProtoExpert.new("ttp.expert.bad_opcode", "Opcode above 0x0A",
    expert.group.MALFORMED, expert.severity.ERROR),
  ["bad-vc"] = ProtoExpert.new("ttp.expert.bad_vc", "Virtual channel above 2",
    expert.group.MALFORMED, expert.severity.ERROR),
  ["bad-extension"] = ProtoExpert.new("ttp.expert.bad_extension", "Malformed weft extension block",
    expert.group.MALFORMED, expert.severity.ERROR),
  ["oversize"] = ProtoExpert.new("ttp.expert.oversize", "Frame larger than the maximum frame size",
    expert.group.MALFORMED, expert.severity.ERROR),
  ["bad-security-header"] = ProtoExpert.new("ttp.expert.bad_security_header",
    "Protected frame: security header version is not 1 or its reserved bits are not zero",
    expert.group.MALFORMED, expert.severity.ERROR),
}
local E_ce = ProtoExpert.new("ttp.expert.ce", "Congestion experienced (CE) set by a switch",
  expert.group.SEQUENCE, expert.severity.NOTE)
local E_padding = ProtoExpert.new("ttp.expert.padding", "Bytes after TTH total-length (Ethernet padding)",
  expert.group.PROTOCOL, expert.severity.CHAT)
local expert_list = { E_ce, E_padding }
for _, e in pairs(E) do expert_list[#expert_list + 1] = e end
p_ttp.experts = expert_list

-- ---- preferences --------------------------------------------------------------------------------

p_ttp.prefs.udp_port = Pref.uint("UDP port", 0,
  "Decode every UDP datagram from or to this port as TTP. 0: decode UDP on any port whose payload " ..
  "looks like a TTP header (heuristic)")
p_ttp.prefs.extensions = Pref.bool("Parse the weft extension block", true,
  "Also the security header of protected frames (flag 0x04). Off for TTPoE-compat captures: the " ..
  "reference sender leaves the extension byte uninitialised, and compat ignores the flags")
p_ttp.prefs.max_frame = Pref.uint("Maximum frame bytes", 9000,
  "Frames (Ethernet, without VLAN tags) or UDP payloads larger than this are flagged oversize")

-- ---- helpers ------------------------------------------------------------------------------------

local function hex8(v) return string.format("%08x", v) end

-- The same test as `weft decode` applies to UDP payloads on any port (tools/weft/decode.cc).
local function looks_like_ttp(tvb)
  if tvb:len() < TTP_BYTES then return false end
  local op, vc = tvb(0, 1):uint(), tvb(1, 1):uint()
  if op > 0x0A or vc > 2 then return false end
  if tvb(7, 1):uint() >= 0x10 then return false end -- version nibble
  if tvb(8, 1):uint() >= 0x04 then return false end -- reserved bits above cr|ce
  if p_ttp.prefs.extensions then
    local ext = tvb(9, 1):uint()
    if ext ~= 0 and ext ~= EXT_FEATURES and ext ~= EXT_HELLO and ext ~= EXT_SACK then return false end
  end
  return true
end

-- Decode state of one frame: the first error wins, as in wire::decode.
local function new_state() return { err = nil, err_item = nil } end
local function fail(st, name, item)
  if st.err == nil then
    st.err = name
    st.err_item = item
  end
end

-- The extension block at [off, stop) of tvb. Returns the offset after the block, or nil on error.
local function dissect_extensions(tvb, off, stop, first_type, tree, st)
  local avail = stop - off
  if avail < EXT_BLOCK_HEADER then
    local it = nil
    if avail > 0 then it = tree:add(F.ext_unknown, tvb(off, avail)) end
    fail(st, "truncated", it)
    return nil
  end
  local version, reserved, length = tvb(off, 1):uint(), tvb(off + 1, 1):uint(), tvb(off + 2, 2):uint()
  local shown = math.min(length, avail)
  if shown < EXT_BLOCK_HEADER then shown = EXT_BLOCK_HEADER end
  local et = tree:add(tvb(off, shown), "weft extension block")
  local vi = et:add(F.ext_version, tvb(off, 1))
  local ri = et:add(F.ext_reserved, tvb(off + 1, 1))
  local li = et:add(F.ext_length, tvb(off + 2, 2))
  if version ~= 1 then fail(st, "bad-extension", vi); return nil end
  if reserved ~= 0 then fail(st, "bad-extension", ri); return nil end
  if length < EXT_BLOCK_HEADER + 2 then fail(st, "bad-extension", li); return nil end
  if length > avail then fail(st, "truncated", li); return nil end
  local block_end = off + length
  local pos = off + EXT_BLOCK_HEADER
  local first = true
  local seen_features, seen_sack, seen_hello = false, false, false
  while pos < block_end do
    if block_end - pos < 2 then
      fail(st, "bad-extension", et:add(F.ext_unknown, tvb(pos, block_end - pos)))
      return nil
    end
    local t, l = tvb(pos, 1):uint(), tvb(pos + 1, 1):uint()
    if l > block_end - pos - 2 then
      local tt = et:add(tvb(pos, block_end - pos), "TLV (overruns the block)")
      tt:add(F.ext_type, tvb(pos, 1))
      fail(st, "bad-extension", tt:add(F.ext_len, tvb(pos + 1, 1)))
      return nil
    end
    local label = t == EXT_FEATURES and "Features" or (t == EXT_SACK and "Selective ACK" or
      (t == EXT_HELLO and "Hello" or string.format("Unknown TLV 0x%02x", t)))
    local tt = et:add(tvb(pos, 2 + l), label)
    local ti = tt:add(F.ext_type, tvb(pos, 1))
    local lenitem = tt:add(F.ext_len, tvb(pos + 1, 1))
    if first and t ~= first_type then
      fail(st, "bad-extension", ti)
      return nil
    end
    first = false
    local v = pos + 2
    if t == EXT_FEATURES then
      if l ~= FEATURES_VALUE_BYTES or seen_features then fail(st, "bad-extension", lenitem); return nil end
      seen_features = true
      tt:add(F.feat_version, tvb(v, 1))
      tt:add(F.feat_epoch, tvb(v + 1, 2))
      tt:add(F.feat_max_frame, tvb(v + 3, 2))
      tt:add(F.feat_window, tvb(v + 5, 4))
      local bi = tt:add(F.feat_bits, tvb(v + 9, 4))
      bi:add(F.feat_sack, tvb(v + 9, 4))
      bi:add(F.feat_ecn, tvb(v + 9, 4))
      bi:add(F.feat_entropy, tvb(v + 9, 4))
      bi:add(F.feat_messages, tvb(v + 9, 4))
      tt:append_text(string.format(": v%d epoch 0x%04x max frame %d window %d bits 0x%x",
        tvb(v, 1):uint(), tvb(v + 1, 2):uint(), tvb(v + 3, 2):uint(), tvb(v + 5, 4):uint(), tvb(v + 9, 4):uint()))
      st.info_ext = (st.info_ext or "") .. " FEATURES"

    elseif t == EXT_SACK then
      if l == 0 or l % 8 ~= 0 or l / 8 > MAX_SACK_RANGES or seen_sack then
        fail(st, "bad-extension", lenitem)
        return nil
      end
      seen_sack = true
      local texts = {}
      for i = 0, math.floor(l / 8) - 1 do
        local r = v + 8 * i
        local a, b = tvb(r, 4):uint(), tvb(r + 4, 4):uint()
        local rt = tt:add(tvb(r, 8), string.format("Range %d: 0x%08x-0x%08x", i + 1, a, b))
        rt:add(F.sack_first, tvb(r, 4))
        rt:add(F.sack_last, tvb(r + 4, 4))
        texts[#texts + 1] = hex8(a) .. "-" .. hex8(b)
        -- first <= last in 32-bit serial arithmetic
        if (b - a) % 4294967296 >= 2147483648 then
          fail(st, "bad-extension", rt)
          return nil
        end
      end
      tt:append_text(": " .. table.concat(texts, ","))
      st.info_ext = (st.info_ext or "") .. " SACK=" .. table.concat(texts, ",")

    elseif t == EXT_HELLO then
      if l ~= HELLO_VALUE_BYTES or seen_hello then fail(st, "bad-extension", lenitem); return nil end
      seen_hello = true
      local si = tt:add(F.hello_suites, tvb(v, 1))
      si:add(F.hello_suites_aes, tvb(v, 1))
      si:add(F.hello_suites_chacha, tvb(v, 1))
      local ai = tt:add(F.hello_auth, tvb(v + 1, 1))
      ai:add(F.hello_auth_signature, tvb(v + 1, 1))
      ai:add(F.hello_auth_mac, tvb(v + 1, 1))
      local hri = tt:add(F.hello_reserved, tvb(v + 2, 2))
      if tvb(v + 2, 2):uint() ~= 0 then fail(st, "bad-extension", hri); return nil end
      tt:add(F.hello_issued, tvb(v + 4, 8))
      tt:add(F.hello_echo_issued, tvb(v + 12, 8))
      tt:add(F.hello_ephemeral, tvb(v + 20, 32))
      tt:add(F.hello_identity, tvb(v + 52, 32))
      tt:add(F.hello_echo_ephemeral, tvb(v + 84, 32))
      tt:add(F.hello_signature, tvb(v + 116, 64))
      tt:add(F.hello_mac, tvb(v + 180, 32))
      -- Hello is the block's last TLV (its signature and MAC sit at fixed offsets from the end).
      if v + l ~= block_end then fail(st, "bad-extension", tt); return nil end
      local suites, auth = tvb(v, 1):uint(), tvb(v + 1, 1):uint()
      local sn, an = {}, {}
      if suites % 2 == 1 then sn[#sn + 1] = "aes" end
      if math.floor(suites / 2) % 2 == 1 then sn[#sn + 1] = "chacha" end
      if auth % 2 == 1 then an[#an + 1] = "signature" end
      if math.floor(auth / 2) % 2 == 1 then an[#an + 1] = "mac" end
      tt:append_text(string.format(": suites %s, auth %s, issued %s",
        #sn > 0 and table.concat(sn, ",") or string.format("0x%02x", suites),
        #an > 0 and table.concat(an, ",") or string.format("0x%02x", auth), tostring(tvb(v + 4, 8):uint64())))
      st.info_ext = (st.info_ext or "") .. " HELLO"
    else
      fail(st, "bad-extension", ti)
      return nil
    end
    pos = pos + 2 + l
  end
  return block_end
end

-- The TTP header at off, the extension block and payload up to stop. Adds to `tree`; returns the
-- summary for the Info column.
local function dissect_ttp(tvb, pinfo, off, stop, tree, st)
  if stop - off < TTP_BYTES then
    local it = tree:add(p_ttp, tvb(off, math.max(0, math.min(stop, tvb:len()) - off)))
    fail(st, "truncated", it)
    return "TTP (truncated)"
  end
  local t = tree:add(p_ttp, tvb(off, stop - off))
  local op, vc = tvb(off, 1):uint(), tvb(off + 1, 1):uint()
  local oi = t:add(F.opcode, tvb(off, 1))
  local vi = t:add(F.vc, tvb(off + 1, 1))
  t:add(F.entropy, tvb(off + 2, 2))
  t:add(F.epoch, tvb(off + 4, 2))
  t:add(F.congestion, tvb(off + 6, 1))
  t:add(F.version, tvb(off + 7, 1))
  local fi = t:add(F.flags, tvb(off + 7, 1))
  fi:add(F.flags_eom, tvb(off + 7, 1))
  fi:add(F.flags_ack_piggyback, tvb(off + 7, 1))
  fi:add(F.flags_protected, tvb(off + 7, 1))
  t:add(F.reserved, tvb(off + 8, 1))
  t:add(F.cr, tvb(off + 8, 1))
  local cei = t:add(F.ce, tvb(off + 8, 1))
  t:add(F.extension, tvb(off + 9, 1))
  t:add(F.tx_id, tvb(off + 10, 4))
  t:add(F.rx_id, tvb(off + 14, 4))
  local b7, b8, ext = tvb(off + 7, 1):uint(), tvb(off + 8, 1):uint(), tvb(off + 9, 1):uint()
  local tx, rx = tvb(off + 10, 4):uint(), tvb(off + 14, 4):uint()
  if b8 % 2 == 1 then t:add_proto_expert_info(E_ce) end

  local name = opcode_names[op] or string.format("opcode 0x%02x", op)
  local info = string.format("%s vc%d tx=%s rx=%s", name, vc, hex8(tx), hex8(rx))
  if b7 % 2 == 1 then info = info .. " EOM" end
  if b8 % 2 == 1 then info = info .. " CE" end
  if math.floor(b8 / 2) % 2 == 1 then info = info .. " CR" end
  t:append_text(", " .. info)
  if op > 0x0A then fail(st, "bad-opcode", oi); return info end
  if vc > 2 then fail(st, "bad-vc", vi); return info end
  local pos = off + TTP_BYTES
  if p_ttp.prefs.extensions and math.floor(b7 / 4) % 2 == 1 then
    -- Protected (weft): security header, sealed extension block and payload, tag. The extension
    -- byte names the first TLV of the sealed block, which cannot be parsed without the keys.
    local rest = stop - pos
    if rest < SECURITY_HEADER + TAG_BYTES then
      local it = nil
      if rest > 0 then it = t:add(tvb(pos, rest), "Security header (truncated)") end
      fail(st, "truncated", it)
      return info
    end
    local sealed_len = rest - SECURITY_HEADER - TAG_BYTES
    local sv, gen, sres = tvb(pos, 1):uint(), tvb(pos + 1, 1):uint(), tvb(pos + 2, 2):uint()
    local ctr = tvb(pos + 4, 8):uint64()
    local sh = t:add(tvb(pos, SECURITY_HEADER), "Security header")
    local svi = sh:add(F.sec_version, tvb(pos, 1))
    sh:add(F.sec_key_generation, tvb(pos + 1, 1))
    local sri = sh:add(F.sec_reserved, tvb(pos + 2, 2))
    sh:add(F.sec_counter, tvb(pos + 4, 8))
    sh:append_text(string.format(": v%d, key generation %d, counter %s", sv, gen, tostring(ctr)))
    if sv ~= SECURITY_VERSION then fail(st, "bad-security-header", svi); return info end
    if sres ~= 0 then fail(st, "bad-security-header", sri); return info end
    if sealed_len > 0 then t:add(F.sealed, tvb(pos + SECURITY_HEADER, sealed_len)) end
    t:add(F.sealed_length, sealed_len):set_generated()
    t:add(F.tag, tvb(stop - TAG_BYTES, TAG_BYTES))
    info = info .. string.format(" PROTECTED gen=%d ctr=%s sealed=%d", gen, tostring(ctr), sealed_len)
    return info
  end
  if p_ttp.prefs.extensions and ext ~= 0 then
    pos = dissect_extensions(tvb, pos, stop, ext, t, st)
    if pos == nil then return info end
    info = info .. (st.info_ext or "")
  end
  local plen = stop - pos
  if plen > 0 then t:add(F.payload, tvb(pos, plen)) end
  t:add(F.payload_length, plen):set_generated()
  info = info .. " len=" .. plen
  return info
end

local function finish(tvb, pinfo, tree, st, info, prefix)
  pinfo.cols.protocol:set("TTP")
  if st.err then
    local item = st.err_item or tree
    item:add_proto_expert_info(E[st.err])
    tree:add(F.error, st.err):set_generated()
    info = string.format("%s[Malformed: %s] %s", prefix, st.err, info)
  else
    info = prefix .. info
  end
  pinfo.cols.info:set(info)
end

-- ---- Ethernet: TTH -> TSH -> TTP --------------------------------------------------------------

function p_tth.dissector(tvb, pinfo, tree)
  local st = new_state()
  local len = tvb:len()
  local frame_len = len + ETH_HEADER -- without VLAN tags, as weft's decoder counts it
  if frame_len > p_ttp.prefs.max_frame then fail(st, "oversize", nil) end
  if frame_len < MIN_RECV_FRAME then fail(st, "truncated", nil) end
  if len < TTH_BYTES then
    local t = tree:add(p_tth, tvb(0, len))
    fail(st, "truncated", t)
    finish(tvb, pinfo, tree, st, "TTH (truncated)", "")
    return len
  end
  local tth = tree:add(p_tth, tvb(0, TTH_BYTES))
  local b0 = tvb(0, 1):uint()
  local bi = tth:add(F.tth_styp, tvb(0, 1))
  tth:add(F.tth_vers, tvb(0, 1))
  tth:add(F.tth_tthl, tvb(0, 1))
  tth:add(F.tth_gw, tvb(1, 1))
  tth:add(F.tth_reserved, tvb(1, 1))
  local total = tvb(2, 2):uint()
  local ti = tth:add(F.tth_total_length, tvb(2, 2))
  tth:add(F.tth_pad, tvb(4, 16))
  if b0 ~= 0x05 then fail(st, "bad-tth", bi) end
  if len < TTH_BYTES + TSH_BYTES then
    fail(st, "truncated", tth)
    finish(tvb, pinfo, tree, st, "TSH (truncated)", "")
    return len
  end
  local tsh = tree:add(p_tsh, tvb(TTH_BYTES, TSH_BYTES))
  local src, dst = tvb(TTH_BYTES, 3):uint(), tvb(TTH_BYTES + 3, 3):uint()
  tsh:add(F.tsh_src_node, tvb(TTH_BYTES, 3))
  tsh:add(F.tsh_dst_node, tvb(TTH_BYTES + 3, 3))
  local tsh_len = tvb(TTH_BYTES + 6, 2):uint()
  local li = tsh:add(F.tsh_length, tvb(TTH_BYTES + 6, 2))
  tsh:append_text(string.format(", node %d -> %d", src, dst))
  if total < TTH_TO_PAYLOAD or tsh_len + TTH_BYTES ~= total then
    fail(st, "bad-length", li)
    ti:append_text(string.format(" (TSH length + 20 = %d)", tsh_len + TTH_BYTES))
  end
  local stop = total -- end of the payload, from the TTH start
  if total > len then
    fail(st, "truncated", ti)
    stop = len
  end
  if stop < TTH_BYTES + TSH_BYTES then stop = math.min(len, TTH_TO_PAYLOAD) end
  local info = dissect_ttp(tvb, pinfo, TTH_BYTES + TSH_BYTES, stop, tree, st)
  if stop < len and st.err == nil then
    tree:add(F.padding, tvb(stop, len - stop)):add_proto_expert_info(E_padding)
  end
  finish(tvb, pinfo, tree, st, info, string.format("n%d \xe2\x86\x92 n%d ", src, dst))
  return len
end

-- ---- UDP: TTP directly after the UDP header -----------------------------------------------------

function p_ttp.dissector(tvb, pinfo, tree)
  local st = new_state()
  local len = tvb:len()
  if len > p_ttp.prefs.max_frame then fail(st, "oversize", nil) end
  local info = dissect_ttp(tvb, pinfo, 0, len, tree, st)
  finish(tvb, pinfo, tree, st, info, "")
  return len
end

local function heuristic_udp(tvb, pinfo, tree)
  if p_ttp.prefs.udp_port ~= 0 then return false end -- port-based decoding is on instead
  if not looks_like_ttp(tvb) then return false end
  p_ttp.dissector(tvb, pinfo, tree)
  return true
end

-- ---- registration -------------------------------------------------------------------------------

DissectorTable.get("ethertype"):add(ETHERTYPE_TTP, p_tth)
p_ttp:register_heuristic("udp", heuristic_udp)

local registered_port = 0
function p_ttp.prefs_changed()
  local udp = DissectorTable.get("udp.port")
  if registered_port ~= 0 then udp:remove(registered_port, p_ttp) end
  registered_port = p_ttp.prefs.udp_port
  if registered_port ~= 0 then udp:add(registered_port, p_ttp) end
end
