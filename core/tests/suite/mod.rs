mod turn_loop;
