package lb.dataplane.packet;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Hand-built frames as hex, for tests of this and other packages. Their checksums were computed by
 * a separate script (plain struct packing and RFC 1071 in Python) and every test that uses them
 * re-verifies them with {@code ReferenceChecksum} before trusting them.
 * <p>
 * Addresses: MAC A 02:00:00:00:00:01 (lb), B ...:02 (client side), C ...:03 (lb egress),
 * D ...:04 (backend); client 198.18.0.10, VIP 198.18.1.1, backend 198.18.2.5.
 */
public final class GoldenFrames
{
    public static final long MAC_A = 0x02_00_00_00_00_01L;
    public static final long MAC_B = 0x02_00_00_00_00_02L;
    public static final long MAC_C = 0x02_00_00_00_00_03L;
    public static final long MAC_D = 0x02_00_00_00_00_04L;
    public static final int CLIENT_IP = 0xC612_000A;
    public static final int VIP = 0xC612_0101;
    public static final int BACKEND_IP = 0xC612_0205;

    /** TCP SYN 198.18.0.10:40000 -> VIP:80, TTL 64, id 0x1c46, DF, seq 0x12345678, 20 bytes of options. */
    public static final String TCP_SYN =
        "02000000000102000000000208004500003c1c46400040069146c612000ac612" +
        "01019c4000501234567800000000a002faf0d8600000020405b40402080a0001" +
        "e2400000000001030307";

    /** UDP 198.18.0.10:5353 -> VIP:53 "hello lb!" (odd length), TTL 63, padded to 60 bytes. */
    public static final String UDP_PADDED =
        "020000000001020000000002080045000025beef00003f112fa9c612000ac612" +
        "010114e9003500118c2968656c6c6f206c6221000000000000000000";

    /** ICMP echo request client -> VIP, id 0x1234 seq 1, 16 bytes of data, TTL 64. */
    public static final String ICMP_ECHO =
        "02000000000102000000000208004500002c0abc40004001a2e5c612000ac612" +
        "01010800a27f123400016162636465666768696a6b6c6d6e6f70";

    /** The reply to {@link #ICMP_ECHO}: MACs and addresses swapped, type 0, TTL 64. */
    public static final String ICMP_ECHO_REPLY =
        "02000000000202000000000108004500002c0abc40004001a2e5c6120101c612" +
        "000a0000aa7f123400016162636465666768696a6b6c6d6e6f70";

    /** {@link #ICMP_ECHO} with a record-route option (IHL 7), TTL 30, id 0x0abd. */
    public static final String ICMP_ECHO_OPTIONS =
        "0200000000010200000000020800470000340abd40001e01b7d5c612000ac612" +
        "010107070400000000000800a27f123400016162636465666768696a6b6c6d6e" +
        "6f70";

    /** The reply to {@link #ICMP_ECHO_OPTIONS}: options removed, TTL 64. */
    public static final String ICMP_ECHO_OPTIONS_REPLY =
        "02000000000202000000000108004500002c0abd40004001a2e4c6120101c612" +
        "000a0000aa7f123400016162636465666768696a6b6c6d6e6f70";

    /** ARP request: who has VIP? tell 198.18.0.10 (MAC B); broadcast, padded to 60 bytes. */
    public static final String ARP_REQUEST =
        "ffffffffffff02000000000208060001080006040001020000000002c612000a" +
        "000000000000c6120101000000000000000000000000000000000000";

    /** {@link #ARP_REQUEST} without the padding (42 bytes). */
    public static final String ARP_REQUEST_UNPADDED =
        "ffffffffffff02000000000208060001080006040001020000000002c612000a" +
        "000000000000c6120101";

    /** ARP reply: VIP is at MAC A, to 198.18.0.10 (MAC B), 42 bytes. */
    public static final String ARP_REPLY_UNPADDED =
        "02000000000202000000000108060001080006040002020000000001c6120101" +
        "020000000002c612000a";

    /** 802.1Q tag (PCP 3, VLAN 100) then TCP PSH|ACK 40001 -> 443 with "howdy", TTL 5, id 7. */
    public static final String VLAN_TCP =
        "0200000000010200000000028100606408004500002d000740000506e894c612" +
        "000ac61201019c4101bbdeadbeef01020304501801f6882d0000686f776479";

    /** IHL 6 (router alert option), DSCP 46 ECN 1, TTL 2, UDP 1024 -> 4789 with checksum 0, padded. */
    public static final String IPV4_OPTIONS_UDP =
        "020000000001020000000002080046b90024424240000211139ac612000ac612" +
        "010194040000040012b5000c00000102030400000000000000000000";

    /** 802.1ad outer tag VLAN 10, 802.1Q inner tag PCP 1 VLAN 20, UDP 7000 -> 7001 "qinq", padded. */
    public static final String QINQ_UDP =
        "02000000000102000000000288a8000a81002014080045000020000140000911" +
        "e49cc612000ac61201011b581b59000c5c1a71696e71000000000000";

    /** {@link #TCP_SYN} after forward NAT to backend:8080, MAC C -> D, TTL 63. */
    public static final String TCP_SYN_FORWARD_NAT =
        "02000000000402000000000308004500003c1c4640003f069142c612000ac612" +
        "02059c401f901234567800000000a002faf0b81c0000020405b40402080a0001" +
        "e2400000000001030307";

    /** SYN-ACK backend:8080 -> client:40000 as the backend sends it, MAC D -> C, TTL 64. */
    public static final String TCP_SYNACK_FROM_BACKEND =
        "02000000000302000000000408004500003c000040004006ac88c6120205c612" +
        "000a1f909c409abcdef012345679a012fe883ac60000020405b40402080a0001" +
        "e2400000000001030307";

    /** {@link #TCP_SYNACK_FROM_BACKEND} after return NAT: from VIP:80, MAC C -> B, TTL 63. */
    public static final String TCP_SYNACK_RETURN_NAT =
        "02000000000202000000000308004500003c000040003f06ae8cc6120101c612" +
        "000a00509c409abcdef012345679a012fe885b0a0000020405b40402080a0001" +
        "e2400000000001030307";

    /** The first 51 bytes (no padding) of {@link #UDP_PADDED} after forward NAT to backend:5300, MAC C -> D, TTL 62. */
    public static final String UDP_FORWARD_NAT =
        "020000000004020000000003080045000025beef00003e112fa5c612000ac612" +
        "020514e914b4001176a668656c6c6f206c6221";

    // IPv6 frames, built by hand from RFC 8200, 4443 and 4861 (checksums from a separate script), addresses from the
    // benchmarking prefix 2001:2::/48. Client 2001:2::a, VIP 2001:2::101, host 2001:2::1, target 2001:2::abcd:ef12.
    public static final long V6_HIGH = 0x2001_0002_0000_0000L;
    public static final long V6_CLIENT_LOW = 0xAL;
    public static final long V6_VIP_LOW = 0x101L;
    public static final long V6_HOST_LOW = 0x1L;
    public static final long V6_TARGET_LOW = 0xABCD_EF12L;

    /**
     * Neighbour solicitation from 2001:2::1 (MAC A) for 2001:2::abcd:ef12, to its solicited-node address
     * ff02::1:ffcd:ef12 and MAC 33:33:ff:cd:ef:12, hop limit 255, source link-layer address option MAC A.
     */
    public static final String V6_NEIGHBOR_SOLICITATION =
        "3333ffcdef1202000000000186dd6000000000203aff20010002000000000000" +
        "000000000001ff0200000000000000000001ffcdef128700acd6000000002001" +
        "00020000000000000000abcdef120101020000000001";

    /** The advertisement answering it: from 2001:2::abcd:ef12 (MAC B) to 2001:2::1, flags S and O, target option MAC B. */
    public static final String V6_NEIGHBOR_ADVERTISEMENT =
        "02000000000102000000000286dd6000000000203aff20010002000000000000" +
        "0000abcdef12200100020000000000000000000000018800" +
        "7dd660000000200100020000000000000000abcdef120201020000000002";

    /** Echo request 2001:2::a (MAC A) to the VIP 2001:2::101 (MAC B), id 0x1234, sequence 7, data "ping6 lb", hop limit 64. */
    public static final String V6_ECHO_REQUEST =
        "02000000000202000000000186dd6000000000103a402001000200000000000000" +
        "000000000a200100020000000000000000000001018000ab151234000770696e" +
        "6736206c62";

    /**
     * TCP SYN 2001:2::a:40000 to the VIP:80 behind a hop-by-hop header (8 bytes, a PadN option) and a
     * destination options header (16 bytes, PadN), payload length 44, TCP checksum ce3b.
     */
    public static final String V6_TCP_SYN_EXTENSIONS =
        "02000000000202000000000186dd60000000002c00402001000200000000000000" +
        "000000000a200100020000000000000000000001013c000104000000000601010c" +
        "0000000000000000000000009c40005001020304000000005002ffffce3b0000";

    /** UDP 2001:2::a:5353 to the VIP:53, "hello", checksum 65d3. */
    public static final String V6_UDP =
        "02000000000202000000000186dd60000000000d11402001000200000000000000" +
        "000000000a2001000200000000000000000000010114e90035000d65d368656c6c" +
        "6f";

    private GoldenFrames()
    {
    }

    /**
     * Parse hex.
     *
     * @param hex even number of hex digits.
     * @return the bytes.
     */
    public static byte[] bytes(final String hex)
    {
        final byte[] bytes = new byte[hex.length() / 2];
        for (int i = 0; i < bytes.length; i++)
        {
            bytes[i] = (byte)Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return bytes;
    }

    /**
     * Format bytes as hex.
     *
     * @param bytes  source.
     * @param offset first byte.
     * @param length number of bytes.
     * @return lower-case hex.
     */
    public static String hex(final byte[] bytes, final int offset, final int length)
    {
        final StringBuilder builder = new StringBuilder(length * 2);
        for (int i = offset; i < offset + length; i++)
        {
            builder.append(Character.forDigit((bytes[i] >>> 4) & 0xF, 16)).append(Character.forDigit(bytes[i] & 0xF, 16));
        }
        return builder.toString();
    }

    /**
     * A buffer holding a frame at {@code offset}, with distinct garbage before and after it, so a
     * read outside the frame changes results.
     *
     * @param frame   the frame.
     * @param offset  where it starts.
     * @param trailer garbage bytes after it.
     * @param garbage the garbage byte value.
     * @return a buffer of offset + frame.length + trailer bytes.
     */
    public static UnsafeBuffer embed(final byte[] frame, final int offset, final int trailer, final byte garbage)
    {
        final byte[] array = new byte[offset + frame.length + trailer];
        java.util.Arrays.fill(array, garbage);
        System.arraycopy(frame, 0, array, offset, frame.length);
        return new UnsafeBuffer(array);
    }
}
