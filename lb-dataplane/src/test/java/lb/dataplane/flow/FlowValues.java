package lb.dataplane.flow;

import java.util.Random;

/**
 * The values of one flow entry as the model tests keep them, and the random changes they make to
 * an entry: each applied to the table and to these values alike.
 */
final class FlowValues
{
    int serviceId;
    int backendId;
    int natIp;
    int natPort;
    long peerMac;
    long lastSeen;
    int tcpState;
    boolean returnDirection;
    boolean finSeen;
    long packets;
    long bytes;

    FlowValues(final long lastSeen)
    {
        this.lastSeen = lastSeen;
    }

    /** One random change to the entry at {@code slot}, in the table and here. */
    void mutate(final FlowTable table, final int slot, final Random random, final long now)
    {
        switch (random.nextInt(7))
        {
            case 0 ->
            {
                final int frameBytes = 60 + random.nextInt(1455);
                table.touch(slot, now, frameBytes);
                packets++;
                bytes += frameBytes;
                lastSeen = now;
            }
            case 1 ->
            {
                serviceId = random.nextInt();
                backendId = random.nextInt();
                table.setServiceId(slot, serviceId);
                table.setBackendId(slot, backendId);
            }
            case 2 ->
            {
                natIp = random.nextInt();
                natPort = random.nextInt(65536);
                table.setNatIp(slot, natIp);
                table.setNatPort(slot, natPort);
            }
            case 3 ->
            {
                final long mac = random.nextLong();
                peerMac = mac & 0xFFFF_FFFF_FFFFL;
                table.setPeerMac(slot, mac);
            }
            case 4 ->
            {
                tcpState = random.nextInt(4);
                returnDirection = random.nextBoolean();
                table.setTcpState(slot, tcpState);
                table.setReturnDirection(slot, returnDirection);
            }
            case 5 ->
            {
                finSeen = true;
                table.setFinSeen(slot);
            }
            default ->
            {
                // Older times make entries stale so that eviction and expiry have real choices to make.
                lastSeen = now - random.nextInt(500);
                packets = random.nextLong();
                bytes = random.nextLong();
                table.setLastSeen(slot, lastSeen);
                table.setPackets(slot, packets);
                table.setBytes(slot, bytes);
            }
        }
    }
}
