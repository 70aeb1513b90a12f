package lb.dataplane.io;

import java.nio.ByteOrder;
import org.agrona.concurrent.UnsafeBuffer;

import static lb.dataplane.io.TestFrames.putMac;

/** Frames for the fanout-steering tests: IPv4 TCP/UDP with chosen endpoints, ARP, ICMP, fragments. */
final class SteeringFrames
{
    static final int TCP = 6;
    static final int UDP = 17;
    static final int ICMP = 1;
    static final int GRE = 47;

    private SteeringFrames()
    {
    }

    /**
     * An IPv4 frame, 14-byte Ethernet header (or 18 with an 802.1Q tag), an IP header of
     * {@code ihl} words (options filled with NOPs), a TCP or UDP header and a little payload.
     */
    static byte[] ipv4(final long dstMac, final long srcMac, final int protocol, final int srcIp, final int srcPort,
        final int dstIp, final int dstPort, final int ihl, final int fragment, final boolean vlan)
    {
        final int l2 = vlan ? 18 : 14;
        final int ipLength = ihl * 4;
        final int l4Length = protocol == TCP ? 20 : 8;
        final int payload = 16;
        final byte[] bytes = new byte[Math.max(60, l2 + ipLength + l4Length + payload)];
        final UnsafeBuffer b = new UnsafeBuffer(bytes);
        putMac(b, 0, dstMac);
        putMac(b, 6, srcMac);
        if (vlan)
        {
            b.putShort(12, (short)0x8100, ByteOrder.BIG_ENDIAN);
            b.putShort(14, (short)7, ByteOrder.BIG_ENDIAN);
        }
        b.putShort(l2 - 2, (short)0x0800, ByteOrder.BIG_ENDIAN);
        b.putByte(l2, (byte)(0x40 | ihl));
        b.putShort(l2 + 2, (short)(ipLength + l4Length + payload), ByteOrder.BIG_ENDIAN);
        b.putShort(l2 + 6, (short)fragment, ByteOrder.BIG_ENDIAN);
        b.putByte(l2 + 8, (byte)64);
        b.putByte(l2 + 9, (byte)protocol);
        b.putInt(l2 + 12, srcIp, ByteOrder.BIG_ENDIAN);
        b.putInt(l2 + 16, dstIp, ByteOrder.BIG_ENDIAN);
        for (int i = 20; i < ipLength; i++)
        {
            b.putByte(l2 + i, (byte)1);
        }
        b.putShort(l2 + 10, (short)ipChecksum(b, l2, ipLength), ByteOrder.BIG_ENDIAN);
        final int l4 = l2 + ipLength;
        b.putShort(l4, (short)srcPort, ByteOrder.BIG_ENDIAN);
        b.putShort(l4 + 2, (short)dstPort, ByteOrder.BIG_ENDIAN);
        if (protocol == TCP)
        {
            b.putByte(l4 + 12, (byte)0x50);
            b.putByte(l4 + 13, (byte)0x02);
        }
        else if (protocol == UDP)
        {
            b.putShort(l4 + 4, (short)(l4Length + payload), ByteOrder.BIG_ENDIAN);
        }
        return bytes;
    }

    /**
     * An ICMP error of {@code type} from {@code srcIp} to {@code dstIp}, with an outer IP header of
     * {@code ihl} words, quoting all of the IPv4 packet in {@code quoted} (an untagged frame).
     */
    static byte[] icmpError(final long dstMac, final long srcMac, final int srcIp, final int dstIp, final int type,
        final int ihl, final byte[] quoted)
    {
        final byte[] outer = ipv4(dstMac, srcMac, ICMP, srcIp, 0, dstIp, 0, ihl, 0, false);
        final int icmp = 14 + ihl * 4;
        final byte[] bytes = new byte[icmp + 8 + quoted.length - 14];
        System.arraycopy(outer, 0, bytes, 0, icmp);
        final UnsafeBuffer b = new UnsafeBuffer(bytes);
        b.putShort(16, (short)(bytes.length - 14), ByteOrder.BIG_ENDIAN);
        b.putShort(24, (short)0, ByteOrder.BIG_ENDIAN);
        b.putShort(24, (short)ipChecksum(b, 14, ihl * 4), ByteOrder.BIG_ENDIAN);
        b.putByte(icmp, (byte)type);
        System.arraycopy(quoted, 14, bytes, icmp + 8, quoted.length - 14);
        return bytes;
    }

    static byte[] tcp(final long dstMac, final long srcMac, final int srcIp, final int srcPort, final int dstIp,
        final int dstPort)
    {
        return ipv4(dstMac, srcMac, TCP, srcIp, srcPort, dstIp, dstPort, 5, 0, false);
    }

    /** An ARP request (broadcast) from {@code senderIp} for {@code targetIp}. */
    static byte[] arp(final long srcMac, final int senderIp, final int targetIp)
    {
        final byte[] bytes = new byte[60];
        final UnsafeBuffer b = new UnsafeBuffer(bytes);
        putMac(b, 0, 0xFFFF_FFFF_FFFFL);
        putMac(b, 6, srcMac);
        b.putShort(12, (short)0x0806, ByteOrder.BIG_ENDIAN);
        b.putShort(14, (short)1, ByteOrder.BIG_ENDIAN);
        b.putShort(16, (short)0x0800, ByteOrder.BIG_ENDIAN);
        b.putByte(18, (byte)6);
        b.putByte(19, (byte)4);
        b.putShort(20, (short)1, ByteOrder.BIG_ENDIAN);
        putMac(b, 22, srcMac);
        b.putInt(28, senderIp, ByteOrder.BIG_ENDIAN);
        b.putInt(38, targetIp, ByteOrder.BIG_ENDIAN);
        return bytes;
    }

    /** The frame cut to {@code length} bytes. */
    static byte[] cut(final byte[] frame, final int length)
    {
        return java.util.Arrays.copyOf(frame, length);
    }

    private static int ipChecksum(final UnsafeBuffer b, final int offset, final int length)
    {
        int sum = 0;
        for (int i = 0; i < length; i += 2)
        {
            sum += b.getShort(offset + i, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return ~sum & 0xFFFF;
    }
}
