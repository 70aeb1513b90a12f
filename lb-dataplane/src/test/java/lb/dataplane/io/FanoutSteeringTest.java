package lb.dataplane.io;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static lb.dataplane.io.SteeringFrames.*;
import static lb.dataplane.io.TestFrames.mac;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The kernel runs the steering programs: on a veth end, one PACKET_FANOUT_CBPF group with the
 * client-side program and another with the server-side program, each of {@code workers} packet
 * sockets joined in order. Frames from many client endpoints land in exactly the socket
 * {@link FanoutProgram#workerOf} predicts, their return twins (the client endpoint as destination)
 * in the same socket of the other group, and ARP, ICMP and fragments in socket 0. The same for
 * IPv6: TCP/UDP (some behind destination-options headers) and ICMPv6 errors with their flows, NDP,
 * echo and fragments in socket 0.
 */
class FanoutSteeringTest
{
    private static final String MAC_A_TEXT = "02:00:00:00:0a:01";
    private static final String MAC_B_TEXT = "02:00:00:00:0b:01";
    private static final long MAC_A = mac(MAC_A_TEXT);
    private static final long MAC_B = mac(MAC_B_TEXT);
    private static final long WAIT_MS = 5_000;
    private static final int VIP = 0xC6120064;      // 198.18.0.100
    private static final int BACKEND = 0xC612010B;  // 198.18.1.11
    private static final int[] CLIENTS = {0xC612000B, 0xC612000C, 0xC612020B};
    private static final int PORTS_PER_CLIENT = 150;
    private static final int FIRST_PORT = 40000;
    /** A port no TCP/UDP test frame uses: marks the frames that must go to socket 0. */
    private static final int CONTROL_MARK = 7;
    private static final int ICMP_ERRORS_PER_SIDE = 40;
    private static final int ROUTER = 0xC6120002;
    /** 2001:2::/64 and 2001:2:0:1::/64: the high halves. Clients 2001:2::11, ::12, ::1:0:0:11. */
    private static final long CLIENT_NET6 = 0x2001_0002_0000_0000L;
    private static final long SERVER_NET6 = 0x2001_0002_0000_0001L;
    private static final long VIP6 = 0x100;
    private static final long BACKEND6 = 0x11;
    private static final long ROUTER6 = 0x2;
    private static final long[] CLIENTS6 = {0x11, 0x12, 0x0001_0000_0000_0011L};
    private static final int[] NO_EXTENSIONS = {};

    private static TestNetwork net;
    private static String nsA;
    private static String nsB;

    @BeforeAll
    static void createNetwork()
    {
        net = TestNetwork.create();
        nsA = net.namespace("a");
        nsB = net.namespace("b");
        net.veth(nsA, "a0", MAC_A_TEXT, nsB, "b0", MAC_B_TEXT);
    }

    @AfterAll
    static void deleteNetwork()
    {
        if (null != net)
        {
            net.close();
        }
    }

    /** Where each test frame landed: its key to the index of the socket that received it. */
    private static final class Landing
    {
        final Map<String, Integer> socketOf = new HashMap<>();
        final List<String> duplicates = new ArrayList<>();

        /** Receives the {@code sent} frames on the group; each must reach exactly one socket. */
        static Landing ofEveryFrame(final List<PacketSocket> group, final int sent, final String side)
        {
            final Landing landing = new Landing();
            landing.receive(group, sent);
            assertEquals(List.of(), landing.duplicates, "frames seen by two " + side + " sockets");
            assertEquals(sent, landing.socketOf.size(), "every frame reached one " + side + " socket");
            return landing;
        }

        void receive(final List<PacketSocket> group, final int expected)
        {
            final long deadline = System.currentTimeMillis() + WAIT_MS;
            while (socketOf.size() + duplicates.size() < expected && System.currentTimeMillis() < deadline)
            {
                int work = 0;
                for (int i = 0; i < group.size(); i++)
                {
                    final int index = i;
                    work += group.get(i).receive((buffer, offset, length, flags) -> note(buffer, offset, length, index), 64);
                }
                if (0 == work)
                {
                    group.get(0).waitForInput(5);
                }
            }
        }

        private void note(final UnsafeBuffer buffer, final int offset, final int length, final int socket)
        {
            final String key = key(buffer, offset, length);
            if (key != null && socketOf.put(key, socket) != null)
            {
                duplicates.add(key);
            }
        }
    }

    /**
     * A frame's identity: "arp n", "icmp n", "frag n", "tcp|udp fwd|ret ip port" of its client
     * endpoint, or "icmp error to|from ip port" of the client endpoint in its quote.
     */
    private static String key(final UnsafeBuffer b, final int offset, final int length)
    {
        if (length < 42 || TestFrames.getMac(b, offset + 6) != MAC_A)
        {
            return null;
        }
        final int etherType = b.getShort(offset + 12, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if (etherType == 0x0806)
        {
            return "arp " + Integer.toHexString(b.getInt(offset + 38, ByteOrder.BIG_ENDIAN));
        }
        if (etherType == 0x86DD)
        {
            return key6(b, offset + 14);
        }
        if (etherType != 0x0800)
        {
            return null;
        }
        final int ip = offset + 14;
        final int l4 = ip + ((b.getByte(ip) & 0xF) << 2);
        final int protocol = b.getByte(ip + 9) & 0xFF;
        final int src = b.getInt(ip + 12, ByteOrder.BIG_ENDIAN);
        final int dst = b.getInt(ip + 16, ByteOrder.BIG_ENDIAN);
        final int srcPort = b.getShort(l4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        final int dstPort = b.getShort(l4 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if ((b.getShort(ip + 6, ByteOrder.BIG_ENDIAN) & 0x3FFF) != 0)
        {
            return "frag " + srcPort;
        }
        if (protocol == ICMP && (srcPort >>> 8) == 3)
        {
            // Destination unreachable: name it by the quoted packet's client endpoint.
            final int quoted = l4 + 8;
            final int quotedL4 = quoted + ((b.getByte(quoted) & 0xF) << 2);
            final boolean toClient = b.getInt(quoted + 12, ByteOrder.BIG_ENDIAN) == VIP;
            return "icmp error " + (toClient ? "to " : "from ") +
                Integer.toHexString(b.getInt(quoted + (toClient ? 16 : 12), ByteOrder.BIG_ENDIAN)) + " " +
                (b.getShort(quotedL4 + (toClient ? 2 : 0), ByteOrder.BIG_ENDIAN) & 0xFFFF);
        }
        if (protocol == ICMP)
        {
            return "icmp " + srcPort;
        }
        final String p = protocol == TCP ? "tcp" : "udp";
        return dst == VIP ? p + " fwd " + Integer.toHexString(src) + " " + srcPort :
            p + " ret " + Integer.toHexString(dst) + " " + dstPort;
    }

    /**
     * An IPv6 frame's identity: "tcp6|udp6 fwd|ret low port" of its client endpoint (past any
     * destination-options headers), "icmp6 error to|from low port" of its quote's client endpoint,
     * "icmp6 TYPE low" of its source for other ICMPv6, "frag6 low" for a fragment.
     */
    private static String key6(final UnsafeBuffer b, final int ip)
    {
        int nextHeader = b.getByte(ip + 6) & 0xFF;
        int l4 = ip + 40;
        while (nextHeader == DESTINATION_OPTIONS)
        {
            nextHeader = b.getByte(l4) & 0xFF;
            l4 += 8 * (1 + (b.getByte(l4 + 1) & 0xFF));
        }
        final long srcLow = b.getLong(ip + 16, ByteOrder.BIG_ENDIAN);
        final long dstLow = b.getLong(ip + 32, ByteOrder.BIG_ENDIAN);
        if (nextHeader == FRAGMENT)
        {
            return "frag6 " + Long.toHexString(srcLow);
        }
        if (nextHeader == ICMPV6)
        {
            final int type = b.getByte(l4) & 0xFF;
            if (type < 1 || type > 4)
            {
                return "icmp6 " + type + " " + Long.toHexString(srcLow);
            }
            final int quoted = l4 + 8;
            final boolean toClient = b.getLong(quoted + 16, ByteOrder.BIG_ENDIAN) == VIP6;
            return "icmp6 error " + (toClient ? "to " : "from ") +
                Long.toHexString(b.getLong(quoted + (toClient ? 32 : 16), ByteOrder.BIG_ENDIAN)) + " " +
                (b.getShort(quoted + 40 + (toClient ? 2 : 0), ByteOrder.BIG_ENDIAN) & 0xFFFF);
        }
        final String p = nextHeader == TCP ? "tcp6" : "udp6";
        return dstLow == VIP6 ? p + " fwd " + Long.toHexString(srcLow) + " " + (b.getShort(l4, ByteOrder.BIG_ENDIAN) & 0xFFFF) :
            p + " ret " + Long.toHexString(dstLow) + " " + (b.getShort(l4 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF);
    }

    @ParameterizedTest(name = "{0} workers")
    @ValueSource(ints = {2, 3})
    void eachFrameLandsInTheSocketTheModelPicksAndAFlowsTwoDirectionsMeet(final int workers)
    {
        final int clientGroup = 0x4C00 + workers;
        final int serverGroup = 0x4C10 + workers;
        final List<PacketSocket> clientSide = new ArrayList<>();
        final List<PacketSocket> serverSide = new ArrayList<>();
        try (RawSender tx = NetNs.call(nsA, () -> RawSender.open("a0")))
        {
            joinGroups(clientSide, clientGroup, serverSide, serverGroup, workers);

            final List<byte[]> frames = new ArrayList<>();
            int sent = 0;
            for (final int client : CLIENTS)
            {
                for (int port = FIRST_PORT; port < FIRST_PORT + PORTS_PER_CLIENT; port++)
                {
                    final int protocol = (port & 1) == 0 ? TCP : UDP;
                    // Every fifth forward frame carries IP options, every seventh a VLAN tag.
                    final int ihl = port % 5 == 0 ? 8 : 5;
                    frames.add(ipv4(MAC_B, MAC_A, protocol, client, port, VIP, 80, ihl, 0x4000, port % 7 == 0));
                    frames.add(ipv4(MAC_B, MAC_A, protocol, BACKEND, 8080, client, port, 5, 0x4000, false));
                }
            }
            // ICMP errors about flows: a router's about lb's packet to the client, a backend's about lb's packet from it.
            for (int port = FIRST_PORT; port < FIRST_PORT + ICMP_ERRORS_PER_SIDE; port++)
            {
                frames.add(icmpError(MAC_B, MAC_A, ROUTER, VIP, 3, 5,
                    ipv4(MAC_A, MAC_B, TCP, VIP, 80, CLIENTS[0], port, 5, 0x4000, false)));
                frames.add(icmpError(MAC_B, MAC_A, BACKEND, CLIENTS[0], 3, 5,
                    ipv4(MAC_A, MAC_B, UDP, CLIENTS[0], port, BACKEND, 8080, 5, 0x4000, false)));
            }
            for (int i = 0; i < 5; i++)
            {
                frames.add(arp(MAC_A, CLIENTS[0], VIP + i));
                frames.add(ipv4(MAC_B, MAC_A, ICMP, CLIENTS[1], CONTROL_MARK + i, VIP, 0, 5, 0, false));
                frames.add(ipv4(MAC_B, MAC_A, TCP, CLIENTS[2], CONTROL_MARK + i, VIP, 80, 5, 0x2000, false));
            }
            for (final byte[] frame : frames)
            {
                assertTrue(tx.send(new UnsafeBuffer(frame), 0, frame.length), () -> "errno " + tx.lastErrno());
                sent++;
            }

            final Landing atClientSide = Landing.ofEveryFrame(clientSide, sent, "client-side");
            final Landing atServerSide = Landing.ofEveryFrame(serverSide, sent, "server-side");

            final int[] perSocket = new int[workers];
            for (final int client : CLIENTS)
            {
                for (int port = FIRST_PORT; port < FIRST_PORT + PORTS_PER_CLIENT; port++)
                {
                    final String p = (port & 1) == 0 ? "tcp" : "udp";
                    final String endpoint = Integer.toHexString(client) + " " + port;
                    final int predicted = FanoutProgram.workerOf(client, port, workers);
                    assertEquals(predicted, atClientSide.socketOf.get(p + " fwd " + endpoint), "forward frame of " + endpoint);
                    assertEquals(predicted, atServerSide.socketOf.get(p + " ret " + endpoint), "return frame to " + endpoint);
                    perSocket[predicted]++;
                }
            }
            for (int i = 0; i < workers; i++)
            {
                assertTrue(perSocket[i] > 0, "socket " + i + " got no flow");
            }
            for (int port = FIRST_PORT; port < FIRST_PORT + ICMP_ERRORS_PER_SIDE; port++)
            {
                final String endpoint = Integer.toHexString(CLIENTS[0]) + " " + port;
                final int predicted = FanoutProgram.workerOf(CLIENTS[0], port, workers);
                assertEquals(predicted, atClientSide.socketOf.get("icmp error to " + endpoint), "client-side error about " + endpoint);
                assertEquals(predicted, atServerSide.socketOf.get("icmp error from " + endpoint), "server-side error about " + endpoint);
            }
            for (final Landing landing : List.of(atClientSide, atServerSide))
            {
                for (int i = 0; i < 5; i++)
                {
                    assertEquals(0, landing.socketOf.get("arp " + Integer.toHexString(VIP + i)), "ARP");
                    assertEquals(0, landing.socketOf.get("icmp " + (CONTROL_MARK + i)), "ICMP");
                    assertEquals(0, landing.socketOf.get("frag " + (CONTROL_MARK + i)), "fragment");
                }
            }
        }
        finally
        {
            clientSide.forEach(PacketSocket::close);
            serverSide.forEach(PacketSocket::close);
        }
    }

    @ParameterizedTest(name = "{0} workers")
    @ValueSource(ints = {2, 3})
    void eachIpv6FrameLandsInTheSocketTheModelPicksAndAFlowsTwoDirectionsMeet(final int workers)
    {
        final int clientGroup = 0x4C20 + workers;
        final int serverGroup = 0x4C30 + workers;
        final List<PacketSocket> clientSide = new ArrayList<>();
        final List<PacketSocket> serverSide = new ArrayList<>();
        try (RawSender tx = NetNs.call(nsA, () -> RawSender.open("a0")))
        {
            joinGroups(clientSide, clientGroup, serverSide, serverGroup, workers);

            final List<byte[]> frames = new ArrayList<>();
            for (final long client : CLIENTS6)
            {
                for (int port = FIRST_PORT; port < FIRST_PORT + PORTS_PER_CLIENT; port++)
                {
                    final int protocol = (port & 1) == 0 ? TCP : UDP;
                    // Every fifth forward frame carries a destination-options header, every seventh a VLAN tag.
                    final int[] extensions = port % 5 == 0 ? new int[] {DESTINATION_OPTIONS} : NO_EXTENSIONS;
                    frames.add(ipv6(MAC_B, MAC_A, protocol, CLIENT_NET6, client, port, CLIENT_NET6, VIP6, 80, extensions,
                        port % 7 == 0));
                    frames.add(ipv6(MAC_B, MAC_A, protocol, SERVER_NET6, BACKEND6, 8080, CLIENT_NET6, client, port,
                        NO_EXTENSIONS, false));
                }
            }
            // ICMPv6 errors about flows: a router's about lb's packet to the client, a backend's about lb's packet from it.
            for (int port = FIRST_PORT; port < FIRST_PORT + ICMP_ERRORS_PER_SIDE; port++)
            {
                final int type = 1 + port % 4;
                frames.add(icmpv6Error(MAC_B, MAC_A, CLIENT_NET6, ROUTER6, CLIENT_NET6, VIP6, type, NO_EXTENSIONS,
                    packet6(CLIENT_NET6, VIP6, CLIENT_NET6, CLIENTS6[0], 63, NO_EXTENSIONS, TCP, transport(TCP, 80, port))));
                frames.add(icmpv6Error(MAC_B, MAC_A, SERVER_NET6, BACKEND6, CLIENT_NET6, CLIENTS6[0], type, NO_EXTENSIONS,
                    packet6(CLIENT_NET6, CLIENTS6[0], SERVER_NET6, BACKEND6, 63, NO_EXTENSIONS, UDP, transport(UDP, port, 8080))));
            }
            // NDP, echo and fragments, each from its own source address (the key), with a flow's port where ports would be.
            final long[] controlSources = new long[5];
            final byte[] portBody = new byte[20];
            new UnsafeBuffer(portBody).putShort(0, (short)FIRST_PORT, ByteOrder.BIG_ENDIAN);
            for (int i = 0; i < controlSources.length; i++)
            {
                controlSources[i] = 0x0002_0000_0000_0000L + i;
                final long source = controlSources[i];
                frames.add(neighborSolicitation(MAC_A, CLIENT_NET6, source, CLIENT_NET6, VIP6 + i));
                frames.add(frame6(MAC_B, MAC_A, packet6(CLIENT_NET6, source | 0x100, CLIENT_NET6, VIP6, 255, NO_EXTENSIONS, ICMPV6,
                    icmpv6(ICMPV6_NEIGHBOR_ADVERTISEMENT, 0, portBody)), false));
                frames.add(frame6(MAC_B, MAC_A, packet6(CLIENT_NET6, source | 0x200, CLIENT_NET6, VIP6, 64, NO_EXTENSIONS, ICMPV6,
                    icmpv6(ICMPV6_ECHO_REQUEST, 0, portBody)), false));
                frames.add(frame6(MAC_B, MAC_A, packet6(CLIENT_NET6, source | 0x300, CLIENT_NET6, VIP6, 64, new int[] {FRAGMENT},
                    TCP, transport(TCP, FIRST_PORT, 80)), false));
            }
            for (final byte[] frame : frames)
            {
                assertTrue(tx.send(new UnsafeBuffer(frame), 0, frame.length), () -> "errno " + tx.lastErrno());
            }
            final int sent = frames.size();

            final Landing atClientSide = Landing.ofEveryFrame(clientSide, sent, "client-side");
            final Landing atServerSide = Landing.ofEveryFrame(serverSide, sent, "server-side");

            final int[] perSocket = new int[workers];
            for (final long client : CLIENTS6)
            {
                for (int port = FIRST_PORT; port < FIRST_PORT + PORTS_PER_CLIENT; port++)
                {
                    final String p = (port & 1) == 0 ? "tcp6" : "udp6";
                    final String endpoint = Long.toHexString(client) + " " + port;
                    final int predicted = FanoutProgram.workerOf6(CLIENT_NET6, client, port, workers);
                    assertEquals(predicted, atClientSide.socketOf.get(p + " fwd " + endpoint), "forward frame of " + endpoint);
                    assertEquals(predicted, atServerSide.socketOf.get(p + " ret " + endpoint), "return frame to " + endpoint);
                    perSocket[predicted]++;
                }
            }
            for (int i = 0; i < workers; i++)
            {
                assertTrue(perSocket[i] > 0, "socket " + i + " got no flow");
            }
            int errorsOffSocketZero = 0;
            for (int port = FIRST_PORT; port < FIRST_PORT + ICMP_ERRORS_PER_SIDE; port++)
            {
                final String endpoint = Long.toHexString(CLIENTS6[0]) + " " + port;
                final int predicted = FanoutProgram.workerOf6(CLIENT_NET6, CLIENTS6[0], port, workers);
                assertEquals(predicted, atClientSide.socketOf.get("icmp6 error to " + endpoint), "client-side error about " + endpoint);
                assertEquals(predicted, atServerSide.socketOf.get("icmp6 error from " + endpoint), "server-side error about " + endpoint);
                errorsOffSocketZero += predicted != 0 ? 1 : 0;
            }
            assertTrue(errorsOffSocketZero > 0, "every error's flow hashed to socket 0: the test shows nothing");
            for (final Landing landing : List.of(atClientSide, atServerSide))
            {
                for (final long source : controlSources)
                {
                    assertEquals(0, landing.socketOf.get("icmp6 " + ICMPV6_NEIGHBOR_SOLICITATION + " " + Long.toHexString(source)), "NS");
                    assertEquals(0, landing.socketOf.get("icmp6 " + ICMPV6_NEIGHBOR_ADVERTISEMENT + " " +
                        Long.toHexString(source | 0x100)), "NA");
                    assertEquals(0, landing.socketOf.get("icmp6 " + ICMPV6_ECHO_REQUEST + " " + Long.toHexString(source | 0x200)),
                        "echo request");
                    assertEquals(0, landing.socketOf.get("frag6 " + Long.toHexString(source | 0x300)), "fragment");
                }
            }
        }
        finally
        {
            clientSide.forEach(PacketSocket::close);
            serverSide.forEach(PacketSocket::close);
        }
    }

    /** Opens {@code workers} sockets on b0 into each side's group, joined in order (socket i is worker i). */
    private static void joinGroups(final List<PacketSocket> clientSide, final int clientGroup,
        final List<PacketSocket> serverSide, final int serverGroup, final int workers)
    {
        for (int i = 0; i < workers; i++)
        {
            clientSide.add(NetNs.call(nsB, () -> PacketSocket.open("b0", config(clientGroup, FanoutProgram.Side.CLIENT, workers))));
            serverSide.add(NetNs.call(nsB, () -> PacketSocket.open("b0", config(serverGroup, FanoutProgram.Side.SERVER, workers))));
        }
    }

    private static RingConfig config(final int group, final FanoutProgram.Side side, final int workers)
    {
        return RingConfig.builder()
            .fanout(group, PacketConstants.PACKET_FANOUT_CBPF, 0)
            .fanoutProgram(FanoutProgram.of(side, workers))
            .build();
    }
}
