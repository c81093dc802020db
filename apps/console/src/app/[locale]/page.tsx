import { redirect } from 'next/navigation';
import { currentUser } from '../../api/server-api';
import { homePath } from '../../model/roles';

/** `/<locale>`: the signed-in role's own page (the fleet overview for traffic readers). */
export default async function Home({ params }: { params: Promise<{ locale: string }> }) {
  const { locale } = await params;
  const me = await currentUser();
  redirect(`/${locale}${homePath(me?.role)}`);
}
