package lb.control.socket;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lb.control.socket.PeerAccess.Peer;
import org.junit.jupiter.api.Test;

class PeerAccessTest
{
    private static final int OWNER = 1000;
    private static final int OPERATORS = 4000;
    /** Pid 4242 holds the operators group as a supplementary group; nobody else holds any. */
    private static final PeerAccess.SupplementaryGroups GROUPS = (peer, gid) -> peer.pid() == 4242 && gid == OPERATORS;

    @Test
    void rootAndTheOwnerMayTalk()
    {
        final PeerAccess access = new PeerAccess(OWNER, PeerAccess.NO_GROUP, GROUPS);
        assertTrue(access.permits(new Peer(1, 0, 0)));
        assertTrue(access.permits(new Peer(2, OWNER, 1234)));
    }

    @Test
    void othersMayNotWithoutAGroup()
    {
        final PeerAccess access = new PeerAccess(OWNER, PeerAccess.NO_GROUP, GROUPS);
        assertFalse(access.permits(new Peer(3, 65534, 65534)));
        assertFalse(access.permits(new Peer(4242, 1001, OPERATORS)));
    }

    @Test
    void membersOfTheGroupMayTalkByPrimaryOrSupplementaryGroup()
    {
        final PeerAccess access = new PeerAccess(OWNER, OPERATORS, GROUPS);
        assertTrue(access.permits(new Peer(5, 1001, OPERATORS)));
        assertTrue(access.permits(new Peer(4242, 1002, 1002)));
        assertFalse(access.permits(new Peer(6, 1003, 1003)));
    }

    @Test
    void readsSupplementaryGroupsFromProcStatus()
    {
        final String status = "Name:\tbash\nUid:\t1001\t1001\t1001\t1001\nGid:\t1001\t1001\t1001\t1001\n" +
            "FDSize:\t256\nGroups:\t24 27 4000 \nNStgid:\t77\n";
        assertTrue(PeerAccess.statusHasGroup(status, 4000));
        assertTrue(PeerAccess.statusHasGroup(status, 24));
        assertFalse(PeerAccess.statusHasGroup(status, 400));
        assertFalse(PeerAccess.statusHasGroup("Name:\tx\nGroups:\t\n", 0));
        assertFalse(PeerAccess.statusHasGroup("Name:\tx\n", 4000));
    }

    @Test
    void aGoneProcessHoldsNoGroups()
    {
        assertFalse(PeerAccess.procStatusHasGroup(new Peer(0, 1, 1), 0));
        assertFalse(PeerAccess.procStatusHasGroup(new Peer(Integer.MAX_VALUE, 1, 1), 0));
    }
}
